import { parseUntrustedXml, UnsafeXmlError, xmlText, type XmlNodeData } from '../../ivi/safe-xml.ts';
import { FREE_TEXT_MAX, ID_MAX } from '../../schemas/text.ts';

/**
 * The NAP wire format, in one replaceable module. The real WSDL and receipt schema are only
 * handed out at NAP onboarding; until then this defines a plausible SOAP contract that the
 * client and the simulator share. Replacing it for a real NAP means rewriting the functions
 * below with the same signatures; nothing else knows element names.
 *
 * Assumptions to confirm at onboarding:
 * - the signed IVI travels base64-encoded in the body (so its bytes, and signature, are untouched);
 * - a replay of exactly the same message (same IviReferenceId, same bytes) returns the original
 *   receipt instead of a duplicate fault, which makes retried calls safe;
 * - faults carry a machine-readable reason code in their detail.
 *
 * Answers are read as bytes and must be UTF-8 (ivi/safe-xml.ts refuses other encodings rather
 * than garbling them); every value read is under the text rule: identifiers up to ID_MAX
 * characters (longer ones make the answer unreadable), a fault's message cut to FREE_TEXT_MAX
 * (it is the NAP's explanation, and losing the fault over its length would lose its code).
 */

export type SoapVersion = '1.1' | '1.2';

export const NAP_NAMESPACE = 'urn:ecoc-hub:nap:v1';
const SOAP_NAMESPACES = { '1.1': 'http://schemas.xmlsoap.org/soap/envelope/', '1.2': 'http://www.w3.org/2003/05/soap-envelope' } as const;
const MAX_RESPONSE_BYTES = 1024 * 1024;
/** Signed IVI messages are ~20-100 KB; base64 and envelope add a third. */
export const MAX_REQUEST_BYTES = 5 * 1024 * 1024;

export type NapOperation = 'SubmitIvi' | 'DeleteIvi';

/** Reason codes a NAP answers with; a real NAP's codes map onto these in this module. */
export const NAP_REJECTION_CODES = [
  'SCHEMA_INVALID',
  'SIGNATURE_MISSING',
  'SIGNATURE_INVALID',
  'DUPLICATE_REFERENCE_ID',
  'VERSION_NOT_INCREASING',
  'UNKNOWN_VIN',
  'HEADER_MISMATCH',
  'MALFORMED_REQUEST',
] as const;
export type NapRejectionCode = (typeof NAP_REJECTION_CODES)[number];

export interface SubmitRequest {
  operation: 'SubmitIvi';
  vin: string;
  iviReferenceId: string;
  iviVersionNumber: number;
  xml: Uint8Array;
}

export interface DeleteRequest {
  operation: 'DeleteIvi';
  vin: string;
  reason: string;
}

export type NapRequest = SubmitRequest | DeleteRequest;

export interface NapReceiptData {
  receiptId: string;
  vin: string;
  iviReferenceId?: string;
  receivedAt: string;
  replayed: boolean;
}

export interface NapFault {
  /** Who is at fault: the sender (final rejection) or the receiver (may pass). */
  party: 'sender' | 'receiver';
  code: string;
  message: string;
}

export type NapResponse = { kind: 'receipt'; operation: NapOperation; receipt: NapReceiptData } | { kind: 'fault'; fault: NapFault };

export interface HttpMessage {
  body: string;
  headers: Record<string, string>;
}

export class NapEnvelopeError extends Error {
  override name = 'NapEnvelopeError';
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function envelope(version: SoapVersion, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="${SOAP_NAMESPACES[version]}" xmlns:nap="${NAP_NAMESPACE}"><soap:Body>${body}</soap:Body></soap:Envelope>\n`;
}

function headers(version: SoapVersion, operation: NapOperation): Record<string, string> {
  const action = `${NAP_NAMESPACE}#${operation}`;
  return version === '1.1'
    ? { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${action}"` }
    : { 'content-type': `application/soap+xml; charset=utf-8; action="${action}"` };
}

// ---- client side -------------------------------------------------------------------------------

export function buildRequest(request: NapRequest, version: SoapVersion): HttpMessage {
  const body =
    request.operation === 'SubmitIvi'
      ? `<nap:SubmitIviRequest><nap:Vin>${escape(request.vin)}</nap:Vin><nap:IviReferenceId>${escape(request.iviReferenceId)}</nap:IviReferenceId>` +
        `<nap:IviVersionNumber>${request.iviVersionNumber}</nap:IviVersionNumber><nap:IviMessage>${Buffer.from(request.xml).toString('base64')}</nap:IviMessage></nap:SubmitIviRequest>`
      : `<nap:DeleteIviRequest><nap:Vin>${escape(request.vin)}</nap:Vin><nap:Reason>${escape(request.reason)}</nap:Reason></nap:DeleteIviRequest>`;
  return { body: envelope(version, body), headers: headers(version, request.operation) };
}

/** Reads a response body (the bytes as received); throws `NapEnvelopeError` when it is no SOAP message of this contract. */
export function parseResponse(body: string | Uint8Array): NapResponse {
  const root = parseSoap(body, MAX_RESPONSE_BYTES, 'NAP response');
  const content = soapBody(root, 'NAP response');
  if (content.name === 'Fault') return { kind: 'fault', fault: readFault(content) };
  const operation = content.name === 'SubmitIviResponse' ? 'SubmitIvi' : content.name === 'DeleteIviResponse' ? 'DeleteIvi' : undefined;
  if (!operation || content.namespace !== NAP_NAMESPACE) throw new NapEnvelopeError(`NAP response: unexpected body element {${content.namespace}}${content.name}`);
  const receipt = requiredChild(content, 'Receipt', 'NAP response');
  const iviReferenceId = optionalText(receipt, 'IviReferenceId');
  return {
    kind: 'receipt',
    operation,
    receipt: {
      receiptId: requiredText(receipt, 'ReceiptId', 'NAP receipt'),
      vin: requiredText(receipt, 'Vin', 'NAP receipt'),
      ...(iviReferenceId ? { iviReferenceId } : {}),
      receivedAt: requiredText(receipt, 'ReceivedAt', 'NAP receipt'),
      replayed: optionalText(receipt, 'Replayed') === 'true',
    },
  };
}

/**
 * The receipt of a response, checked against the request it answers: the same operation, VIN and
 * (for a submission) IviReferenceId, and a receipt time that is a date-time. A receipt for
 * anything else is a protocol error, never a delivery of this message.
 */
export function readReceipt(response: Extract<NapResponse, { kind: 'receipt' }>, request: NapRequest): NapReceiptData {
  const { receipt } = response;
  if (response.operation !== request.operation) throw new NapEnvelopeError(`NAP receipt answers ${response.operation}, the request was ${request.operation}`);
  if (receipt.vin !== request.vin) throw new NapEnvelopeError(`NAP receipt is for VIN ${receipt.vin}, the message for ${request.vin}`);
  if (request.operation === 'SubmitIvi' && receipt.iviReferenceId !== request.iviReferenceId) {
    throw new NapEnvelopeError(`NAP receipt is for IviReferenceId ${receipt.iviReferenceId ?? '(none)'}, the message is ${request.iviReferenceId}`);
  }
  if (!DATE_TIME.test(receipt.receivedAt) || Number.isNaN(Date.parse(receipt.receivedAt))) throw new NapEnvelopeError(`NAP receipt: ReceivedAt "${receipt.receivedAt}" is not a date-time`);
  return receipt;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function readFault(fault: XmlNodeData): NapFault {
  const soap11Code = optionalText(fault, 'faultcode');
  const soap12Code = textOf(fault.children.find((c) => c.name === 'Code')?.children.find((c) => c.name === 'Value'), ID_MAX, 'NAP fault');
  const code = (soap11Code ?? soap12Code ?? '').replace(/^.*:/, '');
  const party = code === 'Client' || code === 'Sender' ? 'sender' : 'receiver';
  const reason = messageText(fault.children.find((c) => c.name === 'faultstring')) ?? messageText(fault.children.find((c) => c.name === 'Reason')?.children.find((c) => c.name === 'Text')) ?? '';
  const detail = fault.children.find((c) => c.name === 'detail' || c.name === 'Detail');
  const error = detail?.children.find((c) => c.name === 'Error' && c.namespace === NAP_NAMESPACE);
  return {
    party,
    code: (error && optionalText(error, 'Code')) ?? (party === 'sender' ? 'REJECTED' : 'SERVER_ERROR'),
    message: (error && messageText(error.children.find((c) => c.name === 'Message'))) ?? reason,
  };
}

// ---- server side (simulator) -------------------------------------------------------------------

export function versionFromContentType(contentType: string | undefined): SoapVersion {
  return contentType?.startsWith('application/soap+xml') ? '1.2' : '1.1';
}

export function parseRequest(body: string | Uint8Array): NapRequest {
  const root = parseSoap(body, MAX_REQUEST_BYTES, 'NAP request');
  const content = soapBody(root, 'NAP request');
  if (content.namespace !== NAP_NAMESPACE) throw new NapEnvelopeError(`NAP request: unknown body element {${content.namespace}}${content.name}`);
  if (content.name === 'SubmitIviRequest') {
    const version = Number(requiredText(content, 'IviVersionNumber', 'SubmitIviRequest'));
    if (!Number.isInteger(version) || version < 1) throw new NapEnvelopeError('SubmitIviRequest: IviVersionNumber must be a positive integer');
    const encoded = requiredText(content, 'IviMessage', 'SubmitIviRequest', MAX_REQUEST_BYTES).replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) throw new NapEnvelopeError('SubmitIviRequest: IviMessage is not base64');
    return {
      operation: 'SubmitIvi',
      vin: requiredText(content, 'Vin', 'SubmitIviRequest'),
      iviReferenceId: requiredText(content, 'IviReferenceId', 'SubmitIviRequest'),
      iviVersionNumber: version,
      xml: Buffer.from(encoded, 'base64'),
    };
  }
  if (content.name === 'DeleteIviRequest') {
    return { operation: 'DeleteIvi', vin: requiredText(content, 'Vin', 'DeleteIviRequest'), reason: optionalText(content, 'Reason', FREE_TEXT_MAX) ?? '' };
  }
  throw new NapEnvelopeError(`NAP request: unknown operation ${content.name}`);
}

export function buildReceiptResponse(operation: NapOperation, receipt: NapReceiptData, version: SoapVersion): HttpMessage {
  const element = operation === 'SubmitIvi' ? 'SubmitIviResponse' : 'DeleteIviResponse';
  const body =
    `<nap:${element}><nap:Receipt><nap:ReceiptId>${escape(receipt.receiptId)}</nap:ReceiptId><nap:Vin>${escape(receipt.vin)}</nap:Vin>` +
    (receipt.iviReferenceId ? `<nap:IviReferenceId>${escape(receipt.iviReferenceId)}</nap:IviReferenceId>` : '') +
    `<nap:ReceivedAt>${escape(receipt.receivedAt)}</nap:ReceivedAt><nap:Replayed>${receipt.replayed}</nap:Replayed></nap:Receipt></nap:${element}>`;
  return { body: envelope(version, body), headers: { 'content-type': headers(version, operation)['content-type']! } };
}

/** A fault and the HTTP status SOAP binds it to (1.1: 500; 1.2: 400 sender, 500 receiver). */
export function buildFaultResponse(fault: NapFault, version: SoapVersion): HttpMessage & { status: number } {
  const detail = `<nap:Error><nap:Code>${escape(fault.code)}</nap:Code><nap:Message>${escape(fault.message)}</nap:Message></nap:Error>`;
  const body =
    version === '1.1'
      ? `<soap:Fault><faultcode>soap:${fault.party === 'sender' ? 'Client' : 'Server'}</faultcode><faultstring>${escape(fault.message)}</faultstring><detail>${detail}</detail></soap:Fault>`
      : `<soap:Fault><soap:Code><soap:Value>soap:${fault.party === 'sender' ? 'Sender' : 'Receiver'}</soap:Value></soap:Code>` +
        `<soap:Reason><soap:Text xml:lang="en">${escape(fault.message)}</soap:Text></soap:Reason><soap:Detail>${detail}</soap:Detail></soap:Fault>`;
  return {
    body: envelope(version, body),
    headers: { 'content-type': version === '1.1' ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8' },
    status: version === '1.2' && fault.party === 'sender' ? 400 : 500,
  };
}

// ---- shared ------------------------------------------------------------------------------------

function parseSoap(body: string | Uint8Array, maxBytes: number, what: string): XmlNodeData {
  let root: XmlNodeData;
  try {
    root = parseUntrustedXml(body, { maxBytes, source: what });
  } catch (error) {
    if (error instanceof UnsafeXmlError) throw new NapEnvelopeError(error.message);
    throw error;
  }
  const known = Object.values(SOAP_NAMESPACES) as string[];
  if (root.name !== 'Envelope' || !known.includes(root.namespace)) throw new NapEnvelopeError(`${what}: not a SOAP envelope (root {${root.namespace}}${root.name})`);
  return root;
}

function soapBody(root: XmlNodeData, what: string): XmlNodeData {
  const body = root.children.find((c) => c.name === 'Body' && c.namespace === root.namespace);
  const content = body?.children[0];
  if (!content) throw new NapEnvelopeError(`${what}: empty SOAP body`);
  return content;
}

/** An element's trimmed text under the text rule (undefined when missing or empty); too long is a NapEnvelopeError. */
function textOf(element: XmlNodeData | undefined, max: number, what: string): string | undefined {
  try {
    return xmlText(element, max, what);
  } catch (error) {
    if (error instanceof UnsafeXmlError) throw new NapEnvelopeError(error.message);
    throw error;
  }
}

/** A fault's explanation: any length is read, at most FREE_TEXT_MAX characters are kept. */
function messageText(element: XmlNodeData | undefined): string | undefined {
  const text = textOf(element, Number.MAX_SAFE_INTEGER, 'NAP fault');
  if (text === undefined || text.length <= FREE_TEXT_MAX) return text;
  const cut = text.slice(0, FREE_TEXT_MAX - 1);
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

function optionalText(parent: XmlNodeData, name: string, max = ID_MAX): string | undefined {
  return textOf(parent.children.find((c) => c.name === name), max, `NAP ${parent.name}`);
}

function requiredText(parent: XmlNodeData, name: string, what: string, max = ID_MAX): string {
  const text = optionalText(parent, name, max);
  if (text === undefined) throw new NapEnvelopeError(`${what}: missing ${name}`);
  return text;
}

function requiredChild(parent: XmlNodeData, name: string, what: string): XmlNodeData {
  const child = parent.children.find((c) => c.name === name);
  if (!child) throw new NapEnvelopeError(`${what}: missing ${name}`);
  return child;
}
