import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { saysSubscriptionLimit } from "./subscription-limit.ts";

describe("saysSubscriptionLimit", () => {
  it("recognises a full BMC by bmcweb's and the Base registry's message IDs, and vendors' words", () => {
    for (const text of [
      // bmcweb (503), as the Redfish provisioner reads it and as sushy quotes it through Ironic.
      "Base.1.13.0.EventSubscriptionLimitExceeded: The event subscription failed due to the number of simultaneous subscriptions exceeding the limit of the implementation.",
      "HTTP POST https://10.0.0.9/redfish/v1/EventService/Subscriptions returned code 503. Base.1.8.EventSubscriptionLimitExceeded: The event subscription failed …",
      // The Base registry's create limit on the Subscriptions collection.
      "Base.1.8.CreateLimitReachedForResource: The create operation failed because the resource has reached the limit of possible resources.",
      "The event subscription failed due to the maximum number of subscriptions having been reached.",
      "Maximum number of event subscriptions reached",
      "Subscription limit reached",
    ]) {
      assert.ok(saysSubscriptionLimit(text), text);
    }
  });

  it("does not take other refusals for a full BMC", () => {
    for (const text of [
      "Base.1.8.PropertyUnknown: The property EventTypes is not in the list of valid properties for the resource.",
      "Base.1.8.PropertyValueFormatError: The value 'http://x' for the property Destination is of a different format than the property can accept.",
      "Base.1.8.SessionLimitExceeded: The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation.",
      "Base.1.8.InternalError: The request failed due to an internal service error.",
      "",
    ]) {
      assert.ok(!saysSubscriptionLimit(text), text);
    }
  });
});
