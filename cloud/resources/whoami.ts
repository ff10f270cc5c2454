/** GET /whoami: how the device authenticated its DTLS session, as "<auth kind> <identity>" ("psk demo"). */
import { ContentFormat } from "@coaps-edge/shared";
import { defineResource } from "@coaps-edge/cloud/resource";

export default defineResource({
  title: "Who am I",
  rt: "whoami",
  ct: ContentFormat.text,
  get: { handler: (req) => ({ text: [req.peer.auth, req.peer.identity].filter((s) => s).join(" ") }) },
});
