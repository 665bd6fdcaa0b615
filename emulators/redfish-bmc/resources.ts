/**
 * Renders the Redfish resources of one emulated BMC as JSON objects, each
 * with `@odata.id`, `@odata.type`, `Id` and `Name`. Pure functions of the
 * state they are given.
 *
 * @module
 */
import { allDrives } from "./hardware.ts";
import type { DriveState, Hardware, LedState, StorageState } from "./hardware.ts";
import { EVENT_TYPES } from "./events.ts";
import { lightActive } from "./vendor-profile.ts";
import type { EventServiceAdvert, LightModel } from "./vendor-profile.ts";
import type { DriveLinkQuirks } from "./bmc-settings.ts";

/** The Redfish service root path. */
export const ROOT = "/redfish/v1";

/** The paths of one BMC's resources. */
export interface ResourcePaths {
  system: string;
  chassis: string;
  manager: string;
  storageCollection: string;
  simpleStorageCollection: string;
  thermal: string;
  eventService: string;
  subscriptions: string;
  sessionService: string;
  sessions: string;
  /** The backplane chassis drives live under, when the vendor puts them there (Supermicro). */
  drivesChassis?: string;
}

/** The resource paths of the given hardware. */
export function resourcePaths(hardware: Hardware): ResourcePaths {
  const system = `${ROOT}/Systems/${hardware.systemId}`;
  const chassis = `${ROOT}/Chassis/${hardware.chassisId}`;
  return {
    system,
    chassis,
    manager: `${ROOT}/Managers/${hardware.managerId}`,
    storageCollection: `${system}/Storage`,
    simpleStorageCollection: `${system}/SimpleStorage`,
    thermal: `${chassis}/Thermal`,
    eventService: `${ROOT}/EventService`,
    subscriptions: `${ROOT}/EventService/Subscriptions`,
    sessionService: `${ROOT}/SessionService`,
    sessions: `${ROOT}/SessionService/Sessions`,
    ...(hardware.profile.identity.drivesChassisId === undefined
      ? {}
      : { drivesChassis: `${ROOT}/Chassis/${hardware.profile.identity.drivesChassisId}` }),
  };
}

/** The path of a drive: under its Storage, or under the backplane chassis of a vendor that puts it there. */
export function drivePath(hardware: Hardware, drive: DriveState): string {
  const backplane = hardware.profile.identity.drivesChassisId;
  if (backplane !== undefined) return `${ROOT}/Chassis/${backplane}/Drives/${drive.id}`;
  return `${ROOT}/Systems/${hardware.systemId}/Storage/${drive.storageId}/Drives/${drive.id}`;
}

/** The light properties a resource shows for a light in `state`, as the vendor's model has them. */
export function lightProperties(model: LightModel, state: LedState): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (model.properties.includes("IndicatorLED")) body.IndicatorLED = state;
  if (model.properties.includes("LocationIndicatorActive")) body.LocationIndicatorActive = lightActive(model, state);
  return body;
}

const link = (path: string) => ({ "@odata.id": path });

/** A resource collection. */
export function collection(type: string, path: string, name: string, members: string[]): Record<string, unknown> {
  return {
    "@odata.id": path,
    "@odata.type": `#${type}.${type}`,
    Name: name,
    Members: members.map(link),
    "Members@odata.count": members.length,
  };
}

/** The service root, readable without credentials. */
export function serviceRoot(hardware: Hardware): Record<string, unknown> {
  return {
    "@odata.id": `${ROOT}/`,
    "@odata.type": "#ServiceRoot.v1_11_0.ServiceRoot",
    Id: "RootService",
    Name: "Root Service",
    RedfishVersion: "1.15.0",
    UUID: hardware.serviceUUID,
    Vendor: hardware.profile.identity.vendor,
    Product: hardware.profile.identity.product,
    ProtocolFeaturesSupported: {
      ExpandQuery: { ExpandAll: false, Levels: false, Links: false, NoLinks: false },
      FilterQuery: false,
      SelectQuery: false,
      OnlyMemberQuery: false,
      ExcerptQuery: false,
    },
    Systems: link(`${ROOT}/Systems`),
    Chassis: link(`${ROOT}/Chassis`),
    Managers: link(`${ROOT}/Managers`),
    SessionService: link(`${ROOT}/SessionService`),
    EventService: link(`${ROOT}/EventService`),
    Links: { Sessions: link(`${ROOT}/SessionService/Sessions`) },
  };
}

/** The `/redfish` document listing the protocol versions. */
export function versions(): Record<string, unknown> {
  return { v1: `${ROOT}/` };
}

/** The OData service document. */
export function odataServiceDocument(): Record<string, unknown> {
  const singletons = ["Systems", "Chassis", "Managers", "SessionService", "EventService"];
  return {
    "@odata.context": `${ROOT}/$metadata`,
    value: [
      { name: "Service", kind: "Singleton", url: `${ROOT}/` },
      ...singletons.map((name) => ({ name, kind: "Singleton", url: `${ROOT}/${name}` })),
      { name: "Sessions", kind: "Singleton", url: `${ROOT}/SessionService/Sessions` },
    ],
  };
}

/** The CSDL `$metadata` document: references to the DMTF schemas the service uses. */
export function metadataDocument(): string {
  const namespaces = [
    "ServiceRoot.v1_11_0",
    "ComputerSystemCollection",
    "ComputerSystem.v1_20_0",
    "ChassisCollection",
    "Chassis.v1_23_0",
    "Thermal.v1_7_1",
    "ManagerCollection",
    "Manager.v1_17_0",
    "StorageCollection",
    "Storage.v1_15_0",
    "Drive.v1_17_0",
    "SimpleStorageCollection",
    "SimpleStorage.v1_3_1",
    "SessionService.v1_1_9",
    "SessionCollection",
    "Session.v1_6_0",
    "EventService.v1_10_0",
    "EventDestinationCollection",
    "EventDestination.v1_13_0",
    "Event.v1_7_0",
    "Message.v1_1_1",
  ];
  const refs = namespaces
    .map((ns) => {
      const file = ns.split(".")[0];
      return `  <edmx:Reference Uri="http://redfish.dmtf.org/schemas/v1/${file}_v1.xml">\n    <edmx:Include Namespace="${ns}"/>\n  </edmx:Reference>`;
    })
    .join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">
${refs}
  <edmx:DataServices>
    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="Service">
      <EntityContainer Name="Service" Extends="ServiceRoot.v1_11_0.ServiceContainer"/>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
`;
}

function health(failed: boolean): string {
  return failed ? "Critical" : "OK";
}

function temperatureHealth(hardware: Hardware): string {
  const t = hardware.temperature;
  if (t.readingCelsius >= t.upperCritical) return "Critical";
  if (t.readingCelsius >= t.upperCaution) return "Warning";
  return "OK";
}

function worst(...values: string[]): string {
  if (values.includes("Critical")) return "Critical";
  if (values.includes("Warning")) return "Warning";
  return "OK";
}

/** The ComputerSystem. */
export function computerSystem(hardware: Hardware, simpleStorage: boolean): Record<string, unknown> {
  const paths = resourcePaths(hardware);
  const rollup = worst(
    temperatureHealth(hardware),
    ...allDrives(hardware).map((d) => health(d.failed)),
  );
  const body: Record<string, unknown> = {
    "@odata.id": paths.system,
    "@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem",
    Id: hardware.systemId,
    Name: "System",
    SystemType: "Physical",
    ...(hardware.profile.shape.systemUUID ? { UUID: hardware.systemUUID } : {}),
    Manufacturer: hardware.manufacturer,
    Model: hardware.model,
    SerialNumber: hardware.systemSerialNumber,
    PowerState: hardware.powerState,
    ...lightProperties(hardware.profile.lights.system, hardware.systemLed),
    Status: { State: "Enabled", Health: "OK", HealthRollup: rollup },
    Boot: {
      ...hardware.boot,
      "BootSourceOverrideTarget@Redfish.AllowableValues": ["None", "Pxe", "Hdd", "Cd", "BiosSetup", "UefiHttp"],
      "BootSourceOverrideEnabled@Redfish.AllowableValues": ["Disabled", "Once", "Continuous"],
      "BootSourceOverrideMode@Redfish.AllowableValues": ["Legacy", "UEFI"],
    },
    ProcessorSummary: { Count: 2, Model: "Emulated CPU", Status: { State: "Enabled", Health: "OK" } },
    MemorySummary: { TotalSystemMemoryGiB: 256, Status: { State: "Enabled", Health: "OK" } },
    Storage: link(paths.storageCollection),
    Links: { Chassis: [link(paths.chassis)], ManagedBy: [link(paths.manager)] },
    Actions: {
      "#ComputerSystem.Reset": {
        target: `${paths.system}/Actions/ComputerSystem.Reset`,
        "ResetType@Redfish.AllowableValues": [...RESET_TYPES],
      },
    },
  };
  if (simpleStorage) body.SimpleStorage = link(paths.simpleStorageCollection);
  return body;
}

/** The `ResetType` values the system accepts. */
export const RESET_TYPES = [
  "On",
  "ForceOff",
  "GracefulShutdown",
  "GracefulRestart",
  "ForceRestart",
  "ForceOn",
  "PushPowerButton",
  "PowerCycle",
  "Nmi",
] as const;

/** The Chassis. */
export function chassis(hardware: Hardware): Record<string, unknown> {
  const paths = resourcePaths(hardware);
  const lights = hardware.profile.lights;
  // A chassis that shows the system's light (written through the System) shows the system's state.
  const led = lights.chassis.writableAt === "system" ? hardware.systemLed : hardware.chassisLed;
  return {
    "@odata.id": paths.chassis,
    "@odata.type": "#Chassis.v1_23_0.Chassis",
    Id: hardware.chassisId,
    Name: "Computer System Chassis",
    ChassisType: "RackMount",
    ...(hardware.profile.shape.chassisUUID ? { UUID: hardware.chassisUUID } : {}),
    Manufacturer: hardware.manufacturer,
    Model: hardware.model,
    SerialNumber: hardware.systemSerialNumber,
    PowerState: hardware.powerState,
    ...lightProperties(lights.chassis, led),
    Status: { State: "Enabled", Health: temperatureHealth(hardware), HealthRollup: temperatureHealth(hardware) },
    Thermal: link(paths.thermal),
    Links: { ComputerSystems: [link(paths.system)], ManagedBy: [link(paths.manager)] },
  };
}

/** The Chassis' Thermal resource with its one temperature sensor. */
export function thermal(hardware: Hardware): Record<string, unknown> {
  const paths = resourcePaths(hardware);
  const t = hardware.temperature;
  return {
    "@odata.id": paths.thermal,
    "@odata.type": "#Thermal.v1_7_1.Thermal",
    Id: "Thermal",
    Name: "Thermal",
    Temperatures: [
      {
        "@odata.id": `${paths.thermal}#/Temperatures/${t.id}`,
        MemberId: t.id,
        Name: t.name,
        ReadingCelsius: t.readingCelsius,
        UpperThresholdNonCritical: t.upperCaution,
        UpperThresholdCritical: t.upperCritical,
        PhysicalContext: "Intake",
        Status: { State: "Enabled", Health: temperatureHealth(hardware) },
      },
    ],
  };
}

/** The Manager (the BMC itself). */
export function manager(hardware: Hardware): Record<string, unknown> {
  const paths = resourcePaths(hardware);
  return {
    "@odata.id": paths.manager,
    "@odata.type": "#Manager.v1_17_0.Manager",
    Id: hardware.managerId,
    Name: "Manager",
    ManagerType: "BMC",
    UUID: hardware.serviceUUID,
    Model: `${hardware.model} BMC`,
    FirmwareVersion: hardware.profile.identity.firmwareVersion,
    Status: { State: "Enabled", Health: "OK" },
    Links: { ManagerForServers: [link(paths.system)], ManagerForChassis: [link(paths.chassis)] },
    Actions: {
      "#Manager.Reset": {
        target: `${paths.manager}/Actions/Manager.Reset`,
        "ResetType@Redfish.AllowableValues": ["GracefulRestart", "ForceRestart"],
      },
    },
  };
}

/** One Storage resource with its drives and controller. */
export function storage(hardware: Hardware, s: StorageState, quirks: DriveLinkQuirks = {}): Record<string, unknown> {
  const path = `${resourcePaths(hardware).storageCollection}/${s.id}`;
  const rollup = worst(...s.drives.map((d) => health(d.failed)));
  const drives = s.drives.flatMap((d) => Array.from({ length: quirks.repeatDriveLinks ?? 1 }, () => link(drivePath(hardware, d))));
  const dead = Array.from({ length: quirks.deadDriveLinks ?? 0 }, (_, n) => {
    const absent: DriveState = {
      storageId: s.id,
      id: `Absent.${n}`,
      name: "",
      manufacturer: "",
      model: "",
      serialNumber: "",
      capacityBytes: 0,
      led: "Off",
      failed: false,
    };
    return link(drivePath(hardware, absent));
  });
  return {
    "@odata.id": path,
    "@odata.type": "#Storage.v1_15_0.Storage",
    Id: s.id,
    Name: s.name,
    Status: { State: "Enabled", Health: "OK", HealthRollup: rollup },
    Drives: [...drives, ...dead],
    "Drives@odata.count": drives.length + dead.length,
    StorageControllers: [
      {
        "@odata.id": `${path}#/StorageControllers/0`,
        MemberId: "0",
        Name: s.controllerModel,
        Model: s.controllerModel,
        Status: { State: "Enabled", Health: "OK" },
        SupportedDeviceProtocols: ["SAS", "SATA"],
      },
    ],
  };
}

/** One Drive with its light. */
export function drive(hardware: Hardware, d: DriveState): Record<string, unknown> {
  const model = hardware.profile.lights.drive;
  const path = drivePath(hardware, d);
  const body: Record<string, unknown> = {
    "@odata.id": path,
    "@odata.type": "#Drive.v1_17_0.Drive",
    Id: d.id,
    Name: d.name,
    Manufacturer: d.manufacturer,
    Model: d.model,
    SerialNumber: d.serialNumber,
    CapacityBytes: d.capacityBytes,
    MediaType: d.model.startsWith("ST") ? "HDD" : "SSD",
    Protocol: "SAS",
    ...lightProperties(model, d.led),
    FailurePredicted: false,
    Status: { State: "Enabled", Health: health(d.failed) },
    Links: { Chassis: link(resourcePaths(hardware).drivesChassis ?? resourcePaths(hardware).chassis) },
  };
  if (model.oemAction !== undefined) {
    body.Actions = {
      Oem: {
        [`#${model.oemAction}`]: { target: `${path}/Actions/Oem/${model.oemAction}`, "Active@Redfish.AllowableValues": [true, false] },
      },
    };
  }
  return body;
}

/** The backplane chassis drives live under (Supermicro): no light, no UUID, its Drives collection. */
export function backplaneChassis(hardware: Hardware): Record<string, unknown> {
  const path = resourcePaths(hardware).drivesChassis!;
  return {
    "@odata.id": path,
    "@odata.type": "#Chassis.v1_14_0.Chassis",
    Id: path.split("/").at(-1),
    Name: "Storage Backplane",
    ChassisType: "StorageEnclosure",
    Status: { State: "Enabled", Health: "OK" },
    Drives: link(`${path}/Drives`),
    Links: { ContainedBy: link(resourcePaths(hardware).chassis) },
  };
}

/** One SimpleStorage resource: the same drives as devices (the form Ironic before 23.1 reads). */
export function simpleStorage(hardware: Hardware, s: StorageState): Record<string, unknown> {
  return {
    "@odata.id": `${resourcePaths(hardware).simpleStorageCollection}/${s.id}`,
    "@odata.type": "#SimpleStorage.v1_3_1.SimpleStorage",
    Id: s.id,
    Name: s.name,
    Status: { State: "Enabled", Health: "OK", HealthRollup: worst(...s.drives.map((d) => health(d.failed))) },
    Devices: s.drives.map((d) => ({
      Name: d.name,
      Manufacturer: d.manufacturer,
      Model: d.model,
      CapacityBytes: d.capacityBytes,
      Status: { State: "Enabled", Health: health(d.failed) },
    })),
  };
}

/** The EventService, advertising the filters the vendor supports. */
export function eventService(
  settings: {
    serviceEnabled: boolean;
    retryAttempts: number;
    retryIntervalSeconds: number;
  },
  advert: EventServiceAdvert,
): Record<string, unknown> {
  const filters: Record<string, unknown> = {};
  if (advert.eventTypesForSubscription) filters.EventTypesForSubscription = [...advert.eventTypesForSubscription];
  if (advert.registryPrefixes) filters.RegistryPrefixes = [...advert.registryPrefixes];
  if (advert.resourceTypes) filters.ResourceTypes = [...advert.resourceTypes];
  return {
    "@odata.id": `${ROOT}/EventService`,
    "@odata.type": "#EventService.v1_10_0.EventService",
    Id: "EventService",
    Name: "Event Service",
    ServiceEnabled: settings.serviceEnabled,
    DeliveryRetryAttempts: settings.retryAttempts,
    DeliveryRetryIntervalSeconds: settings.retryIntervalSeconds,
    EventFormatTypes: ["Event"],
    ...filters,
    SubordinateResourcesSupported: true,
    Status: { State: settings.serviceEnabled ? "Enabled" : "Disabled", Health: "OK" },
    Subscriptions: link(`${ROOT}/EventService/Subscriptions`),
    Actions: {
      "#EventService.SubmitTestEvent": {
        target: `${ROOT}/EventService/Actions/EventService.SubmitTestEvent`,
        "EventType@Redfish.AllowableValues": [...EVENT_TYPES.filter((t) => t !== "MetricReport")],
      },
    },
  };
}

/** The SessionService. */
export function sessionService(timeoutSeconds: number): Record<string, unknown> {
  return {
    "@odata.id": `${ROOT}/SessionService`,
    "@odata.type": "#SessionService.v1_1_9.SessionService",
    Id: "SessionService",
    Name: "Session Service",
    ServiceEnabled: true,
    SessionTimeout: timeoutSeconds,
    Status: { State: "Enabled", Health: "OK" },
    Sessions: link(`${ROOT}/SessionService/Sessions`),
  };
}

/** One Session (never its token). */
export function session(id: string, username: string): Record<string, unknown> {
  return {
    "@odata.id": `${ROOT}/SessionService/Sessions/${id}`,
    "@odata.type": "#Session.v1_6_0.Session",
    Id: id,
    Name: `User Session ${id}`,
    UserName: username,
  };
}
