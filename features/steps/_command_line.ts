/**
 * Pure helpers that turn a command line written in a feature file into argv.
 *
 * @module
 */

/**
 * Splits a command line into words the way a shell would for simple cases:
 * on whitespace, with single or double quotes grouping words literally
 * (`sh -c 'exit 42'` gives `["sh", "-c", "exit 42"]`). There are no escapes,
 * variables or globs.
 *
 * @throws {SyntaxError} When a quote is left open.
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const char of line) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= "";
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + char;
    }
  }
  if (quote !== undefined) {
    throw new SyntaxError(`Unclosed ${quote} in command line: ${line}`);
  }
  if (word !== undefined) words.push(word);
  return words;
}

/**
 * Replaces each `<name>` in `text` with `values[name]`, such as `<store>` with
 * the path of the scenario's store.
 *
 * @throws {RangeError} When `text` names a placeholder `values` lacks.
 */
export function fillPlaceholders(
  text: string,
  values: Readonly<Record<string, string>>,
): string {
  return text.replace(/<([a-z]+)>/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) {
      throw new RangeError(`No value for placeholder "<${name}>"`);
    }
    return value;
  });
}
