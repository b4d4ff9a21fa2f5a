// ABHA input rules, checked before any request so a typo never reaches the server.
// NHA documents no checksum for the number, so only digits and 2-4-4-4 grouping count.

export const ABHA_NUMBER_SYSTEM = 'https://healthid.ndhm.gov.in';
export const ABHA_ADDRESS_SYSTEM = 'https://healthid.ndhm.gov.in/address';

const NUMBER = /^(\d{2})-?(\d{4})-?(\d{4})-?(\d{4})$/;
// handle@abdm in production, handle@sbx in the sandbox; case-insensitive
const ADDRESS = /^[a-z0-9](?:[a-z0-9._]*[a-z0-9])?@(?:abdm|sbx)$/i;

/**
 * Parse what the user typed (or a barcode scanner "typed").
 * Returns {kind, value, identifier} or null when the text is neither form.
 */
export function parseAbha(text) {
  const input = text.trim();
  const number = NUMBER.exec(input);
  if (number) {
    // the hyphenated form is how the card prints it and how NRCeS examples store it
    const value = number.slice(1).join('-');
    return { kind: 'number', value, identifier: `${ABHA_NUMBER_SYSTEM}|${value}` };
  }
  if (ADDRESS.test(input)) {
    const value = input.toLowerCase();
    return { kind: 'address', value, identifier: `${ABHA_ADDRESS_SYSTEM}|${value}` };
  }
  return null;
}
