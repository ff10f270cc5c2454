/**
 * /sensors/<id>/temperature: GET the last reading as JSON {celsius, sensor}; PUT {celsius} to
 * set it (validated: a bad body answers 4.00 with a diagnostic). Readings live in the isolate's
 * memory — a demo, not storage.
 */
import { ContentFormat } from "@coaps-edge/shared";
import { defineResource } from "@coaps-edge/cloud/resource";
import * as z from "zod/mini";

const DEFAULT_CELSIUS = 21.5;
const readings = new Map<string, number>();

export default defineResource({
  title: "Temperature",
  rt: "temperature-c",
  if: "sensor",
  ct: [ContentFormat.json, ContentFormat.cbor],
  params: ["id"],
  get: {
    handler: (req) => ({ json: { celsius: readings.get(req.params.id) ?? DEFAULT_CELSIUS, sensor: req.params.id }, maxAge: 5 }),
  },
  put: {
    payload: z.object({ celsius: z.number().check(z.minimum(-273.15), z.maximum(1000)) }),
    handler: (req) => {
      if (readings.size >= 1000 && !readings.has(req.params.id)) readings.clear();
      readings.set(req.params.id, req.json.celsius);
      return { code: "2.04" };
    },
  },
});
