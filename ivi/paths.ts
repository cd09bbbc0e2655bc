/**
 * Field paths as findings, provenance and errors name them: XSD element names joined by `/`,
 * repeated groups with a 1-based index, e.g. `CocDataGroup/AxleTable/AxleGroup[2]/AxleNumber`.
 */

const ROOT_NAMES: Record<string, string> = { header: 'Header', cocDataGroup: 'CocDataGroup' };

/** Turns a JSON path (zod issue path, walk position) into a field path. */
export function fieldPath(segments: readonly PropertyKey[], root = ''): string {
  let path = root;
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment + 1}]`;
    else {
      const name = String(segment);
      path += `${path ? '/' : ''}${path === '' ? (ROOT_NAMES[name] ?? name) : name}`;
    }
  }
  return path;
}
