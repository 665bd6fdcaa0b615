/**
 * Redfish error responses: the `{"error": {code, message, @Message.ExtendedInfo}}`
 * body with messages from the DMTF Base registry. Every message names the
 * property or parameter that was wrong; callers never pass secret values in.
 *
 * @module
 */

/** The Base registry version the emulator's messages come from. */
export const BASE_REGISTRY = "Base.1.8";

/** One entry of `@Message.ExtendedInfo`. */
export interface RedfishMessage {
  "@odata.type": "#Message.v1_1_1.Message";
  MessageId: string;
  Message: string;
  MessageArgs: string[];
  Severity: "OK" | "Warning" | "Critical";
  MessageSeverity: "OK" | "Warning" | "Critical";
  Resolution: string;
  RelatedProperties?: string[];
}

/** A Redfish error the emulator answers with: an HTTP status and one or more messages. */
export class RedfishError extends Error {
  readonly status: number;
  readonly messages: RedfishMessage[];
  /** Extra response headers, for example `WWW-Authenticate` on a 401 or `Allow` on a 405. */
  readonly headers: Record<string, string>;

  constructor(status: number, messages: RedfishMessage[], headers: Record<string, string> = {}) {
    super(messages.map((m) => m.Message).join(" "));
    this.name = "RedfishError";
    this.status = status;
    this.messages = messages;
    this.headers = headers;
  }

  /** The response body. */
  body(): unknown {
    const first = this.messages[0];
    const general = this.messages.length === 1 && first ? first : undefined;
    return {
      error: {
        code: general?.MessageId ?? `${BASE_REGISTRY}.GeneralError`,
        message: general?.Message ?? "A general error has occurred. See ExtendedInfo for more information.",
        "@Message.ExtendedInfo": this.messages,
      },
    };
  }
}

function message(
  key: string,
  text: string,
  args: string[],
  severity: RedfishMessage["Severity"],
  resolution: string,
  relatedProperty?: string,
): RedfishMessage {
  return registryMessage(`${BASE_REGISTRY}.${key}`, text, args, severity, resolution, relatedProperty);
}

/** A message of any registry (a vendor's own, or a Base version other than the emulator's), by its full `MessageId`. */
export function registryMessage(
  messageId: string,
  text: string,
  args: string[],
  severity: RedfishMessage["Severity"],
  resolution: string,
  relatedProperty?: string,
): RedfishMessage {
  const result: RedfishMessage = {
    "@odata.type": "#Message.v1_1_1.Message",
    MessageId: messageId,
    Message: text,
    MessageArgs: args,
    Severity: severity,
    MessageSeverity: severity,
    Resolution: resolution,
  };
  if (relatedProperty !== undefined) result.RelatedProperties = [`#/${relatedProperty}`];
  return result;
}

/** Renders a value for a message the way the Base registry does (strings bare, others as JSON). */
function shown(value: unknown): string {
  if (typeof value === "string") return value;
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json.length > 200 ? `${json.slice(0, 200)}…` : json;
}

/** Builders for the Base registry messages the emulator uses. */
export const baseMessages = {
  propertyValueNotInList: (property: string, value: unknown) =>
    message(
      "PropertyValueNotInList",
      `The value '${shown(value)}' for the property ${property} is not in the list of acceptable values.`,
      [shown(value), property],
      "Warning",
      "Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed.",
      property,
    ),
  propertyValueTypeError: (property: string, value: unknown) =>
    message(
      "PropertyValueTypeError",
      `The value '${shown(value)}' for the property ${property} is of a different type than the property can accept.`,
      [shown(value), property],
      "Warning",
      "Correct the value for the property in the request body and resubmit the request if the operation failed.",
      property,
    ),
  /** For properties whose value must not be echoed (secrets): the message names only the property. */
  propertyValueTypeErrorHidden: (property: string, expected: string) =>
    message(
      "PropertyValueTypeError",
      `The value for the property ${property} is of a different type than the property can accept: expected ${expected}.`,
      ["<hidden>", property],
      "Warning",
      "Correct the value for the property in the request body and resubmit the request if the operation failed.",
      property,
    ),
  propertyValueFormatError: (property: string, value: unknown, why: string) =>
    message(
      "PropertyValueFormatError",
      `The value '${shown(value)}' for the property ${property} is of a different format than the property can accept: ${why}.`,
      [shown(value), property],
      "Warning",
      "Correct the value for the property in the request body and resubmit the request if the operation failed.",
      property,
    ),
  propertyValueConflict: (property: string, other: string) =>
    message(
      "PropertyValueConflict",
      `The property '${property}' could not be written because its value would conflict with the value of the '${other}' property.`,
      [property, other],
      "Warning",
      "No resolution is required.",
      property,
    ),
  propertyUnknown: (property: string) =>
    message(
      "PropertyUnknown",
      `The property ${property} is not in the list of valid properties for the resource.`,
      [property],
      "Warning",
      "Remove the unknown property from the request body and resubmit the request if the operation failed.",
      property,
    ),
  propertyNotWritable: (property: string) =>
    message(
      "PropertyNotWritable",
      `The property ${property} is a read only property and cannot be assigned a value.`,
      [property],
      "Warning",
      "Remove the property from the request body and resubmit the request if the operation failed.",
      property,
    ),
  propertyMissing: (property: string) =>
    message(
      "PropertyMissing",
      `The property ${property} is a required property and must be included in the request.`,
      [property],
      "Warning",
      "Ensure that the property is in the request body and has a valid value and resubmit the request if the operation failed.",
      property,
    ),
  malformedJSON: (why: string) =>
    message(
      "MalformedJSON",
      `The request body submitted was malformed JSON and could not be parsed by the receiving service: ${why}.`,
      [],
      "Critical",
      "Ensure that the request body is valid JSON and resubmit the request.",
    ),
  actionParameterMissing: (action: string, parameter: string) =>
    message(
      "ActionParameterMissing",
      `The action ${action} requires the parameter ${parameter} to be present in the request body.`,
      [action, parameter],
      "Critical",
      "Supply the action with the required parameter in the request body when the request is resubmitted.",
      parameter,
    ),
  actionParameterValueNotInList: (action: string, parameter: string, value: unknown) =>
    message(
      "ActionParameterValueNotInList",
      `The value '${shown(value)}' for the parameter ${parameter} in the action ${action} is not in the list of acceptable values.`,
      [shown(value), parameter, action],
      "Warning",
      "Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed.",
      parameter,
    ),
  actionParameterValueTypeError: (action: string, parameter: string, value: unknown) =>
    message(
      "ActionParameterValueTypeError",
      `The value '${shown(value)}' for the parameter ${parameter} in the action ${action} is of a different type than the parameter can accept.`,
      [shown(value), parameter, action],
      "Warning",
      "Correct the value for the parameter in the request body and resubmit the request if the operation failed.",
      parameter,
    ),
  actionParameterUnknown: (action: string, parameter: string) =>
    message(
      "ActionParameterUnknown",
      `The action ${action} was submitted with the invalid parameter ${parameter}.`,
      [action, parameter],
      "Warning",
      "Correct the invalid parameter and resubmit the request if the operation failed.",
      parameter,
    ),
  resourceMissingAtURI: (uri: string) =>
    message(
      "ResourceMissingAtURI",
      `The resource at the URI ${uri} was not found.`,
      [uri],
      "Critical",
      "Place a valid resource at the URI or correct the URI and resubmit the request.",
    ),
  operationNotAllowed: (method: string, uri: string, allowed: string[]) =>
    message(
      "OperationNotAllowed",
      `The HTTP method ${method} is not allowed on the URI ${uri}; allowed: ${allowed.join(", ")}.`,
      [method, uri],
      "Critical",
      "Do not repeat the operation.",
    ),
  preconditionFailed: (etag: string) =>
    message(
      "PreconditionFailed",
      `The ETag supplied did not match the ETag required to change this resource (If-Match ${etag}).`,
      [],
      "Critical",
      "Try the operation again using the appropriate ETag.",
    ),
  preconditionRequired: () =>
    message(
      "PreconditionRequired",
      "A precondition header or annotation is required to change the resource: send If-Match with the resource's ETag.",
      [],
      "Critical",
      "Try the request again with the appropriate precondition header.",
    ),
  eventSubscriptionLimitExceeded: () =>
    message(
      "EventSubscriptionLimitExceeded",
      "The event subscription failed due to the number of simultaneous subscriptions exceeding the limit of the implementation.",
      [],
      "Critical",
      "Reduce the number of other subscriptions before trying to establish the event subscription or increase the limit of simultaneous subscriptions (if supported).",
    ),
  success: () => message("Success", "The request completed successfully.", [], "OK", "None."),
  created: () => message("Created", "The resource has been created successfully.", [], "OK", "None."),
  noValidSession: () =>
    message(
      "NoValidSession",
      "There is no valid session established with the implementation: send HTTP Basic credentials or an X-Auth-Token.",
      [],
      "Critical",
      "Establish a session before attempting any operations.",
    ),
  resourceAtUriUnauthorized: (uri: string, why: string) =>
    message(
      "ResourceAtUriUnauthorized",
      `While accessing the resource at ${uri}, the service received an authorization error ${why}.`,
      [uri, why],
      "Critical",
      "Ensure that the appropriate access is provided for the service in order for it to access the URI.",
    ),
  // The Base registry's text, word for word, as bmcweb sends it: no count (the limit is not in the message).
  createLimitReachedForResource: () =>
    message(
      "CreateLimitReachedForResource",
      "The create operation failed because the resource has reached the limit of possible resources.",
      [],
      "Critical",
      "Either delete resources and resubmit the request if the operation failed or do not resubmit the request.",
    ),
  sessionLimitExceeded: () =>
    message(
      "SessionLimitExceeded",
      "The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation.",
      [],
      "Critical",
      "Reduce the number of other sessions before trying to establish the session or increase the limit of simultaneous sessions (if supported).",
    ),
  queryNotSupported: (parameter: string) =>
    message(
      "QueryNotSupported",
      `Querying is not supported by the implementation: the query parameter ${parameter} is not supported.`,
      [],
      "Warning",
      "Remove the query parameters and resubmit the request if the operation failed.",
    ),
  serviceTemporarilyUnavailable: (seconds: number) =>
    message(
      "ServiceTemporarilyUnavailable",
      `The service is temporarily unavailable. Retry in ${seconds} seconds.`,
      [String(seconds)],
      "Critical",
      "Wait for the indicated retry duration and retry the operation.",
    ),
  internalError: () =>
    message(
      "InternalError",
      "The request failed due to an internal service error. The service is still operational.",
      [],
      "Critical",
      "Resubmit the request. If the problem persists, consider resetting the service.",
    ),
  generalError: (text: string) => message("GeneralError", text, [], "Critical", "None."),
};

/** A 400 with one or more messages. */
export function badRequest(...messages: RedfishMessage[]): RedfishError {
  return new RedfishError(400, messages);
}

/** A 404 for a URI that names no resource. */
export function notFound(uri: string): RedfishError {
  return new RedfishError(404, [baseMessages.resourceMissingAtURI(uri)]);
}
