/**
 * A small element tree from XML (strict: a malformed SVG fails to parse) or
 * from the HTML Chromium serializes (lenient), on sax (already installed
 * with @alicloud/tea-xml's xml2js), for checking what the map files hold.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sax = require("sax") as { parser(strict: boolean, opts: Record<string, unknown>): any };

export interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  /** Text directly inside it. */
  text: string;
  parent?: El;
}

export function parseXml(text: string, strict = true): El {
  const root: El = { name: "#root", attrs: {}, children: [], text: "" };
  let cur = root;
  const p = sax.parser(strict, { lowercase: true, xmlns: false });
  const VOID = new Set(["meta", "link", "br", "hr", "img", "input"]);
  p.onerror = (e: Error) => { throw new Error(`not well-formed: ${e.message.split("\n")[0]}`); };
  p.onopentag = (t: { name: string; attributes: Record<string, string> }) => {
    const el: El = { name: t.name, attrs: t.attributes, children: [], text: "", parent: cur };
    cur.children.push(el);
    if (!(!strict && VOID.has(t.name))) cur = el;
  };
  p.onclosetag = (name: string) => {
    if (!strict && VOID.has(name)) return;
    if (cur.parent) cur = cur.parent;
  };
  p.ontext = (t: string) => { cur.text += t; };
  p.oncdata = (t: string) => { cur.text += t; };
  // Lenient (HTML) mode hands a <script>'s body over as a script, not as text.
  p.onscript = (t: string) => { cur.text += t; };
  p.write(text).close();
  return root;
}

export function findAll(root: El, pred: (e: El) => boolean): El[] {
  const out: El[] = [];
  const walk = (e: El) => { if (pred(e)) out.push(e); e.children.forEach(walk); };
  walk(root);
  return out;
}

export const hasClass = (e: El, c: string) => (e.attrs.class ?? "").split(/\s+/).includes(c);

/** All text inside an element. */
export function textOf(e: El): string {
  return e.text + e.children.map(textOf).join("");
}
