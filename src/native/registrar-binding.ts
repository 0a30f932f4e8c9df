/** The registrar core's part of the addon (filled in by the registrar issue). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface RegistrarBinding {}
