/** GET /hello: a fixed greeting, the first thing to try with coap-client. */
import { ContentFormat } from "@coaps-edge/shared";
import { defineResource } from "@coaps-edge/cloud/resource";

export default defineResource({
  title: "Hello",
  rt: "greeting",
  ct: ContentFormat.text,
  get: { handler: () => ({ text: "Hello from coaps-edge", maxAge: 60 }) },
});
