/** The audio plane's part of the addon (filled in by the audio plane). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface AudioBinding {}
