/**
 * Server-side check of Alibaba Cloud's "signature method V3" (ACS3-HMAC-SHA256),
 * written from the published spec ("Request syntax and signature method V3"):
 *
 *   CanonicalRequest = HTTPMethod \n CanonicalURI \n CanonicalQueryString \n
 *                      CanonicalHeaders \n SignedHeaders \n HashedRequestPayload
 *   StringToSign     = "ACS3-HMAC-SHA256" \n hex(sha256(CanonicalRequest))
 *   Signature        = hex(hmac_sha256(AccessKeySecret, StringToSign))
 *   Authorization    = ACS3-HMAC-SHA256 Credential=<AK>,SignedHeaders=<a;b;c>,Signature=<hex>
 *
 * The canonical query string is every query parameter, key and value percent-
 * encoded per RFC 3986 (space as %20, "*" as %2A, "~" left alone), sorted by key,
 * joined as k=v with "&". CanonicalHeaders are the signed headers, lower-cased,
 * values trimmed, "name:value\n" each, in SignedHeaders order (which is sorted).
 * HashedRequestPayload is hex(sha256(body)), also sent as x-acs-content-sha256.
 */
import * as crypto from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

export const ALGORITHM = "ACS3-HMAC-SHA256";

/** The headers the spec requires in every signed request, all of which must be signed. */
export const REQUIRED_SIGNED_HEADERS = [
  "host",
  "x-acs-action",
  "x-acs-content-sha256",
  "x-acs-date",
  "x-acs-signature-nonce",
  "x-acs-version",
];

export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export const sha256Hex = (data: string | Buffer): string => crypto.createHash("sha256").update(data).digest("hex");

/** Splits a raw query string (no leading "?") into decoded pairs; throws URIError on bad escapes. */
export function decodeQuery(raw: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const piece of raw.split("&")) {
    if (!piece) continue;
    const eq = piece.indexOf("=");
    const k = eq < 0 ? piece : piece.slice(0, eq);
    const v = eq < 0 ? "" : piece.slice(eq + 1);
    out.push([decodeURIComponent(k), decodeURIComponent(v)]);
  }
  return out;
}

export function canonicalQueryString(pairs: Array<[string, string]>): string {
  return pairs
    .map(([k, v]) => [percentEncode(k), percentEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

export interface ParsedAuthorization {
  algorithm: string;
  credential: string;
  signedHeaders: string[];
  signature: string;
}

export function parseAuthorization(value: string | undefined): ParsedAuthorization | null {
  if (!value) return null;
  const m = /^(\S+)\s+(.*)$/.exec(value.trim());
  if (!m) return null;
  const fields: Record<string, string> = {};
  for (const part of m[2].split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) return null;
    fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  if (!fields.Credential || !fields.SignedHeaders || !fields.Signature) return null;
  return {
    algorithm: m[1],
    credential: fields.Credential,
    signedHeaders: fields.SignedHeaders.split(";").map((h) => h.trim().toLowerCase()),
    signature: fields.Signature.toLowerCase(),
  };
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v.join(",") : v).trim();
}

export function canonicalRequest(args: {
  method: string;
  path: string;
  query: Array<[string, string]>;
  headers: IncomingHttpHeaders;
  signedHeaders: string[];
  hashedPayload: string;
}): string {
  const canonicalHeaders = args.signedHeaders.map((h) => `${h}:${headerValue(args.headers, h) ?? ""}\n`).join("");
  return [
    args.method.toUpperCase(),
    args.path || "/",
    canonicalQueryString(args.query),
    canonicalHeaders,
    args.signedHeaders.join(";"),
    args.hashedPayload,
  ].join("\n");
}

export function stringToSign(canonical: string): string {
  return `${ALGORITHM}\n${sha256Hex(canonical)}`;
}

export function sign(secret: string, toSign: string): string {
  return crypto.createHmac("sha256", secret).update(toSign).digest("hex");
}

export function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
