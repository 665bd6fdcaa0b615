/**
 * Replaces a generated section of a Markdown file, between
 * `<!-- begin:<name> -->` and `<!-- end:<name> -->`, leaving everything else
 * (other scripts' sections included) as it is. A file without the markers
 * gets the section appended.
 *
 * @module
 */
import { readFile, writeFile } from "node:fs/promises";

/** `doc` with section `name` holding `content`. */
export function withSection(doc: string, name: string, content: string): string {
  const begin = `<!-- begin:${name} -->`;
  const end = `<!-- end:${name} -->`;
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from === -1 || to === -1 || to < from) {
    return `${doc.replace(/\n*$/, "\n")}\n${begin}\n${content.trim()}\n${end}\n`;
  }
  return `${doc.slice(0, from + begin.length)}\n${content.trim()}\n${doc.slice(to)}`;
}

/** Writes section `name` of the Markdown file at `path`. */
export async function writeSection(path: string, name: string, content: string): Promise<void> {
  const doc = await readFile(path, "utf8").catch(() => "");
  await writeFile(path, withSection(doc, name, content));
}

/** The text of section `name` of `doc`, or undefined when it has none. */
export function sectionOf(doc: string, name: string): string | undefined {
  const begin = `<!-- begin:${name} -->`;
  const from = doc.indexOf(begin);
  const to = doc.indexOf(`<!-- end:${name} -->`);
  return from === -1 || to < from ? undefined : doc.slice(from + begin.length, to).trim();
}
