// The emulated method registry: every method module's definitions, in one list. Anything not here
// answers ERROR_METHOD_NOT_FOUND.
import type { MethodDef } from '../method.js';
import { appMethods } from './app.js';
import { biconnectorMethods } from './biconnector.js';
import { crmMethods } from './crm.js';
import { systemMethods } from './system.js';

export const allMethods: MethodDef[] = [...crmMethods, ...systemMethods, ...appMethods, ...biconnectorMethods];
