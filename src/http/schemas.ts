// Schemas shared by route plugins.
import { Type } from '@sinclair/typebox';

/** For routes that take no query parameters: an unexpected one is refused by name. */
export const NoQuery = Type.Object({}, { additionalProperties: false });
