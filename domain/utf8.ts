// The size of text as Temporal stores it. Payloads are JSON in UTF-8, and Temporal's limits (2 MB a payload) are in
// bytes, while a string's length counts UTF-16 units: a character of most scripts besides Latin is three bytes in one
// unit. Budgets that keep a payload under a limit count bytes. Pure and deterministic: safe in workflow code.

/** UTF-8 bytes of `text` (a lone surrogate counts as the three bytes of the replacement character it becomes). */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** UTF-8 bytes of `value` as JSON. */
export function jsonBytes(value: unknown): number {
  return utf8Bytes(JSON.stringify(value) ?? '');
}
