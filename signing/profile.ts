/** The IVI 2.0 signature profile (EReg setup manual and official specimens): algorithm identifiers. */
export const IVI_SIGNATURE_PROFILE = {
  canonicalization: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  signatureMethod: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  digestMethod: 'http://www.w3.org/2001/04/xmlenc#sha256',
  envelopedTransform: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
} as const;

export const XMLDSIG_NAMESPACE = 'http://www.w3.org/2000/09/xmldsig#';
export const XADES_NAMESPACE = 'http://uri.etsi.org/01903/v1.3.2#';
export const XADES_SIGNED_PROPERTIES_TYPE = 'http://uri.etsi.org/01903#SignedProperties';
