// CoRE Link Format (RFC 6690) for /.well-known/core: serialisation and parsing.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LinkFormatError, formatLinkFormat, parseLinkFormat, type LinkDescription } from "@coaps-edge/shared";

describe("formatLinkFormat", () => {
  it("quotes strings, writes numbers bare (the example of the API brief)", () => {
    assert.equal(
      formatLinkFormat([
        { href: "/hello", attributes: { rt: "greeting", ct: 0 } },
        { href: "/large", attributes: { sz: 16384 } },
      ]),
      '</hello>;rt="greeting";ct=0,</large>;sz=16384',
    );
  });
  it("RFC 6690 §5 discovery answer: rt and if per link", () => {
    assert.equal(
      formatLinkFormat([
        { href: "/sensors/temp", attributes: { rt: "temperature-c", if: "sensor" } },
        { href: "/sensors/light", attributes: { rt: "light-lux", if: "sensor" } },
      ]),
      '</sensors/temp>;rt="temperature-c";if="sensor",</sensors/light>;rt="light-lux";if="sensor"',
    );
  });
  it("true is a bare flag (obs, RFC 7641 §6); false and missing attributes are omitted", () => {
    assert.equal(formatLinkFormat([{ href: "/time", attributes: { obs: true, title: "Clock", hidden: false } }, { href: "/" }]), '</time>;obs;title="Clock",</>');
  });
  it("arrays are one quoted space-separated value (RFC 6690 §3.1, RFC 7252 §7.2.1); one number stays bare", () => {
    assert.equal(formatLinkFormat([{ href: "/a", attributes: { rt: ["core.s", "temp"], ct: [0, 50] } }]), '</a>;rt="core.s temp";ct="0 50"');
    assert.equal(formatLinkFormat([{ href: "/a", attributes: { ct: [50] } }]), "</a>;ct=50");
  });
  it("escapes quotes and backslashes inside quoted values", () => {
    assert.equal(formatLinkFormat([{ href: "/q", attributes: { title: 'say "hi" \\o/' } }]), '</q>;title="say \\"hi\\" \\\\o/"');
  });
  it("an empty list is an empty document", () => assert.equal(formatLinkFormat([]), ""));
});

describe("parseLinkFormat", () => {
  it("parses the RFC 6690 §5 example, with the line break after the comma", () => {
    const text = '</sensors/temp>;rt="temperature-c";if="sensor",\n   </sensors/light>;rt="light-lux";if="sensor"';
    assert.deepEqual(parseLinkFormat(text), [
      { href: "/sensors/temp", attributes: { rt: "temperature-c", if: "sensor" } },
      { href: "/sensors/light", attributes: { rt: "light-lux", if: "sensor" } },
    ]);
  });
  it("parses anchors and absolute targets (RFC 6690 §5)", () => {
    const text = '<http://www.example.com/sensors/t123>;anchor="/sensors/temp";rel="describedby",</t>;anchor="/sensors/temp";rel="alternate"';
    const links = parseLinkFormat(text);
    assert.equal(links.length, 2);
    assert.equal(links[0]!.href, "http://www.example.com/sensors/t123");
    assert.deepEqual(links[1]!.attributes, { anchor: "/sensors/temp", rel: "alternate" });
  });
  it("bare numbers become numbers, bare tokens strings, flags true", () => {
    assert.deepEqual(parseLinkFormat("</s>;ct=40;sz=16384;rt=temperature;obs"), [{ href: "/s", attributes: { ct: 40, sz: 16384, rt: "temperature", obs: true } }]);
  });
  it("keeps commas inside <...> and quoted values, and unescapes quoted pairs", () => {
    assert.deepEqual(parseLinkFormat('</a,b>;title="x, \\"y\\";z"'), [{ href: "/a,b", attributes: { title: 'x, "y";z' } }]);
  });
  it("a repeated parameter becomes an array", () => {
    assert.deepEqual(parseLinkFormat('</a>;rt="x";rt="y"'), [{ href: "/a", attributes: { rt: ["x", "y"] } }]);
  });
  it("round-trips what formatLinkFormat writes (strings, numbers, flags)", () => {
    const links: LinkDescription[] = [
      { href: "/hello", attributes: { rt: "greeting", ct: 0, title: 'A "quoted" \\ title' } },
      { href: "/large", attributes: { sz: 16384, obs: true } },
      { href: "/plain" },
    ];
    assert.deepEqual(parseLinkFormat(formatLinkFormat(links)), links);
  });
  it("an empty document has no links", () => {
    assert.deepEqual(parseLinkFormat(""), []);
    assert.deepEqual(parseLinkFormat("  "), []);
  });
  it("throws LinkFormatError with an offset on malformed text", () => {
    for (const [bad, offset] of [
      ["/a>", 0],
      ["</a", 0],
      ['</a>;title="open', 16],
      ["</a>;=1", 5],
      ["</a>;ct=", 8],
      ["</a> x", 5],
      ["</a>,", 5],
    ] as const) {
      assert.throws(
        () => parseLinkFormat(bad),
        (e: unknown) => e instanceof LinkFormatError && e.code === "syntax" && e.offset === offset,
        bad,
      );
    }
  });
});
