/**
 * A world for the reconcilers' unit tests, without HTTP: the fake API server
 * and caches ({@link FakeCluster}), the fixture provisioner as the BMCs, an
 * Event list, and hosts with their credentials Secrets.
 *
 * @module
 */
import type { BareMetalHost, BareMetalHostStatus } from "../../api/baremetalhost.ts";
import type { FixtureHost, FixtureHostOptions } from "../../provisioner/fixture/fixture-host.ts";
import { FixtureProvisioner } from "../../provisioner/fixture/fixture-provisioner.ts";
import { type Condition, SECRETS, silentLogger } from "../../runtime/index.ts";
import { FakeCluster, FakeEvents } from "../../runtime/testing/fake-cluster.ts";
import { HostAccessResolver } from "../host-access-resolver.ts";
import { BARE_METAL_HOSTS } from "../resources.ts";
import { SecretReader } from "../secret-reader.ts";

/** The namespace of the world's objects. */
export const NS = "fleet";

/** A fake cluster, a fixture provisioner and what the reconcilers need besides. */
export class World {
  readonly cluster = new FakeCluster();
  readonly provisioner = new FixtureProvisioner();
  readonly events = new FakeEvents();
  readonly client = this.cluster.client;
  readonly hosts = this.cluster.cache(BARE_METAL_HOSTS);
  readonly secrets = new SecretReader(this.client, undefined, silentLogger);
  readonly access = new HostAccessResolver(this.secrets);
  #now = new Date("2026-01-01T00:00:00Z");

  constructor() {
    this.cluster.now = () => this.#now;
  }

  /** The world's wall clock. */
  now = (): Date => this.#now;

  /** Moves the wall clock on. */
  advance(ms: number): void {
    this.#now = new Date(this.#now.getTime() + ms);
  }

  /**
   * Adds a BMC (a fixture host), its credentials Secret and a BareMetalHost
   * `name`; `registered` gives the host the status the host controller writes.
   */
  addHost(name: string, options: FixtureHostOptions & { registered?: boolean } = {}): { bmc: FixtureHost; host: BareMetalHost } {
    const bmc = this.provisioner.addHost(options);
    this.cluster.put(SECRETS, {
      metadata: { namespace: NS, name: `${name}-bmc` },
      data: { username: b64(bmc.username), password: b64(bmc.password) },
    });
    const status: BareMetalHostStatus | undefined = options.registered
      ? {
          operationalStatus: "OK",
          errorMessage: "",
          provisioning: { ID: bmc.systemUUID },
          hardware: { indicators: bmc.indicators() },
          conditions: [ready("True", "Registered")],
        }
      : undefined;
    const host = this.cluster.put(BARE_METAL_HOSTS, {
      apiVersion: "metal3.io/v1alpha1",
      kind: "BareMetalHost",
      metadata: { namespace: NS, name },
      spec: { online: true, bmc: { address: bmc.address, credentialsName: `${name}-bmc` } },
      ...(status ? { status } : {}),
    });
    return { bmc, host };
  }
}

/** A `Ready` condition. */
export function ready(status: "True" | "False", reason: string, message = reason): Condition {
  return { type: "Ready", status, reason, message, lastTransitionTime: "2026-01-01T00:00:00Z" };
}

function b64(text: string): string {
  return Buffer.from(text).toString("base64");
}
