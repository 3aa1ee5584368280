/**
 * What the credential commands need from a target. The cloud target is the HTTP API; the local
 * target (cli/local) answers the same shapes from a file, so rendering and --json output are the
 * same on both.
 */
import { z } from "zod";
import { AppSummary } from "../lib/schemas/apps";
import {
  CheckAnswer,
  Credential,
  RotateAnswer,
  SetAnswer,
  type ListCredentialsQuery,
  type RotateCredentialBody,
  type SetCredentialsBody,
  type UpdateCredentialBody,
} from "../lib/schemas/credentials";
import {
  AssignmentView,
  ConsumerView,
  ExplainAnswer,
  type ConsumerKind,
  type DeleteAssignmentBody,
  type ExplainBody,
  type PutAssignmentBody,
} from "../lib/schemas/resolution";
import type { CliTarget } from "../lib/schemas/cli";
import { allPages, query, seg, type Api } from "./http";

export interface Backend {
  readonly target: CliTarget;
  apps(search?: string): Promise<AppSummary[]>;
  listCredentials(q: ListCredentialsQuery): Promise<Credential[]>;
  getCredential(ref: string): Promise<Credential>;
  /** The API's own answer: the credentials and what the probe said of each (`checks`). */
  setCredentials(body: SetCredentialsBody): Promise<SetAnswer>;
  updateCredential(ref: string, body: UpdateCredentialBody): Promise<Credential>;
  rotateCredential(ref: string, body: RotateCredentialBody): Promise<RotateAnswer>;
  revokeCredential(ref: string): Promise<Credential>;
  /** Probe it now (SPEC section 14); cloud only. */
  checkCredential(ref: string): Promise<CheckAnswer>;
  consumers(kind: ConsumerKind, target: string): Promise<ConsumerView[]>;
  assignments(q: { kind?: ConsumerKind; target?: string }): Promise<AssignmentView[]>;
  putAssignment(body: PutAssignmentBody): Promise<AssignmentView>;
  deleteAssignment(body: DeleteAssignmentBody): Promise<AssignmentView>;
  explain(body: ExplainBody): Promise<z.infer<typeof ExplainAnswer>>;
}


export class CloudBackend implements Backend {
  readonly target = "cloud" as const;
  readonly #api: Api;

  constructor(api: Api) {
    this.#api = api;
  }

  async apps(search?: string) {
    return (await this.#api.call("GET", `/v1/apps${query({ search })}`, z.object({ apps: z.array(AppSummary) }))).apps;
  }
  async listCredentials(q: ListCredentialsQuery) {
    return allPages(this.#api, "/v1/credentials", { app: q.app, scope: q.scope, status: q.status, attention: q.attention }, "credentials", Credential);
  }
  getCredential(ref: string) {
    return this.#api.call("GET", `/v1/credentials/${seg(ref)}`, Credential);
  }
  setCredentials(body: SetCredentialsBody) {
    return this.#api.call("POST", "/v1/credentials", SetAnswer, body);
  }
  updateCredential(ref: string, body: UpdateCredentialBody) {
    return this.#api.call("PATCH", `/v1/credentials/${seg(ref)}`, Credential, body);
  }
  rotateCredential(ref: string, body: RotateCredentialBody) {
    return this.#api.call("POST", `/v1/credentials/${seg(ref)}/rotate`, RotateAnswer, body);
  }
  revokeCredential(ref: string) {
    return this.#api.call("POST", `/v1/credentials/${seg(ref)}/revoke`, Credential);
  }
  checkCredential(ref: string) {
    return this.#api.call("POST", `/v1/credentials/${seg(ref)}/check`, CheckAnswer);
  }
  async consumers(kind: ConsumerKind, target: string) {
    return allPages(this.#api, "/v1/consumers", { kind, target }, "consumers", ConsumerView);
  }
  async assignments(q: { kind?: ConsumerKind; target?: string }) {
    return allPages(this.#api, "/v1/assignments", q, "assignments", AssignmentView);
  }
  putAssignment(body: PutAssignmentBody) {
    return this.#api.call("PUT", "/v1/assignments", AssignmentView, body);
  }
  async deleteAssignment(body: DeleteAssignmentBody) {
    return (await this.#api.call("DELETE", "/v1/assignments", z.object({ deleted: AssignmentView }), body)).deleted;
  }
  explain(body: ExplainBody) {
    return this.#api.call("POST", "/v1/resolve/explain", ExplainAnswer, body);
  }
}
