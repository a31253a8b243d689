// Who is an admin of the app in a portal: the portal's administrators and the users the clinic's
// settings name (settings.access.adminUserIds). Admins see everything and change settings; what
// other users see is the settings' `access.othersSee`, applied by the data routes.
import type { Kysely } from 'kysely';
import { loadSettings } from '../clinic/settings.js';
import type { Database } from '../db/schema.js';

export async function isAppAdmin(db: Kysely<Database>, portalId: string, userId: number, portalAdmin: boolean): Promise<boolean> {
  if (portalAdmin) return true;
  const settings = await loadSettings(db, portalId);
  return settings.access.adminUserIds.includes(userId);
}
