/**
 * Leaf values of CocDataGroup data keyed by the paths composition uses for provenance and
 * corrections (`CocDataGroup/AxleTable/AxleGroup[2]/AxleNumber`, 1-based rows). Pure: the web
 * console bundles it too.
 */
export function leafValues(values: unknown, path = 'CocDataGroup', into: Map<string, unknown> = new Map()): Map<string, unknown> {
  if (Array.isArray(values) && values.length > 0) values.forEach((item, index) => leafValues(item, `${path}[${index + 1}]`, into));
  else if (values !== null && typeof values === 'object' && !Array.isArray(values) && Object.keys(values).length > 0) {
    for (const [key, item] of Object.entries(values)) if (item !== undefined) leafValues(item, `${path}/${key}`, into);
  } else into.set(path, values);
  return into;
}
