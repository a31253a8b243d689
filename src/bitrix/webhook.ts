// An incoming-webhook client on the SDK's own transport. The SDK's B24Hook always rebuilds the URL
// as https://, which is right for real portals but leaves no way to reach a development portal over
// http:// (allowed only with ALLOW_INSECURE_PORTALS); this auth manager keeps the URL's scheme and
// is otherwise what B24Hook's is, so HttpV2 sends no `auth` parameter (refresh_token 'hook').
import { AbstractB24, ApiVersion, HttpV2, HttpV3, type AuthActions, type AuthData, type RestrictionParams } from '@bitrix24/b24jssdk';

class WebhookAuth implements AuthActions {
  private readonly paths: Map<ApiVersion, string>;
  private readonly origin: string;
  private readonly data: AuthData;

  constructor(url: URL, userId: number, secret: string) {
    this.origin = url.origin;
    this.paths = new Map([
      [ApiVersion.v2, `${url.origin}/rest/${userId}/${secret}`],
      [ApiVersion.v3, `${url.origin}/rest/api/${userId}/${secret}`],
    ]);
    this.data = { access_token: secret, refresh_token: 'hook', expires: 0, expires_in: 0, domain: url.host, member_id: url.host };
  }
  getAuthData(): AuthData {
    return this.data;
  }
  refreshAuth(): Promise<AuthData> {
    return Promise.resolve(this.data);
  }
  getUniq(prefix: string): string {
    return `${prefix}_${this.data.member_id}`;
  }
  get isAdmin(): boolean {
    return true;
  }
  getTargetOrigin(): string {
    return this.origin;
  }
  getTargetOriginWithPath(): Map<ApiVersion, string> {
    return this.paths;
  }
}

export class WebhookB24 extends AbstractB24 {
  readonly #auth: WebhookAuth;

  constructor(webhookUrl: string, restrictionParams?: Partial<RestrictionParams>) {
    super();
    const url = new URL(webhookUrl);
    const m = /\/rest\/(\d+)\/([^/]+)\/?$/.exec(url.pathname);
    if (!m) throw new Error('webhook URL must look like https://<portal>/rest/<user id>/<secret>/');
    this.#auth = new WebhookAuth(url, Number(m[1]), m[2]!);
    this._httpV2 = new HttpV2(this.#auth, this._getHttpOptions(), restrictionParams);
    this._httpV3 = new HttpV3(this.#auth, this._getHttpOptions(), restrictionParams);
    this._httpV2.setClientSideWarning(false, '');
    this._httpV3.setClientSideWarning(false, '');
    this._isInit = true;
  }
  get auth(): AuthActions {
    return this.#auth;
  }
  getTargetOrigin(): string {
    return this.#auth.getTargetOrigin();
  }
  getTargetOriginWithPath(): Map<ApiVersion, string> {
    return this.#auth.getTargetOriginWithPath();
  }
}
