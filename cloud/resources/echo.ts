/** POST/PUT /echo: answers with the request's payload and Content-Format, byte for byte. */
import { defineResource, type ResourceRequest } from "@coaps-edge/cloud/resource";

const echo = (req: ResourceRequest) => ({
  payload: req.payload,
  ...(req.contentFormat !== undefined && { contentFormat: req.contentFormat }),
});

export default defineResource({
  title: "Echo",
  rt: "echo",
  post: { handler: echo },
  put: { handler: echo },
});
