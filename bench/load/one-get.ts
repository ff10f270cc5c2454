/** One CON GET on a session, awaited: the check that a new session really serves requests. */
import type { GenSession } from "./protocols.js";
import { GetTemplate, isSuccess, messageId, messageType, responseCode } from "./wire.js";

export type GetOutcome = "ok" | "error" | "timeout";

/** Sends one GET and resolves when its piggybacked response (or an RST) arrives, or after `timeoutMs`. */
export function oneGet(session: GenSession, template: GetTemplate, timeoutMs: number): Promise<GetOutcome> {
  const mid = (Math.random() * 0x10000) | 0;
  return new Promise<GetOutcome>((resolve) => {
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    function finish(outcome: GetOutcome): void {
      clearTimeout(timer);
      session.onMessage = () => {};
      resolve(outcome);
    }
    session.onMessage = (data) => {
      const type = messageType(data);
      if ((type === 2 || type === 3) && messageId(data) === mid) finish(type === 2 && isSuccess(responseCode(data)) ? "ok" : "error");
    };
    session.send(template.next(mid));
  });
}
