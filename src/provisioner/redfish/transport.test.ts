import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { kindForStatus, redfishErrorText } from "./transport.ts";

describe("Redfish transport errors", () => {
  it("maps HTTP statuses to provisioner error kinds", () => {
    assert.equal(kindForStatus(401), "Unauthorized");
    assert.equal(kindForStatus(403), "Unauthorized");
    assert.equal(kindForStatus(400), "Rejected");
    assert.equal(kindForStatus(404), "Rejected");
    assert.equal(kindForStatus(405), "Rejected");
    assert.equal(kindForStatus(408), "Transient");
    assert.equal(kindForStatus(429), "Transient");
    assert.equal(kindForStatus(500), "Transient");
    assert.equal(kindForStatus(503), "Transient");
  });

  it("quotes a Redfish error's extended messages with their IDs, else its message", () => {
    assert.equal(
      redfishErrorText({
        error: {
          code: "Base.1.8.GeneralError",
          message: "A general error has occurred.",
          "@Message.ExtendedInfo": [
            { MessageId: "Base.1.8.PropertyValueNotInList", Message: "The value FTP for Protocol is not in the list." },
            { Message: "Second problem." },
          ],
        },
      }),
      "Base.1.8.PropertyValueNotInList: The value FTP for Protocol is not in the list.; Second problem.",
    );
    assert.equal(redfishErrorText({ error: { message: "Only a message." } }), "Only a message.");
    assert.equal(redfishErrorText({ error: { code: "Base.1.8.InternalError" } }), "Base.1.8.InternalError");
    assert.equal(redfishErrorText("<html>oops</html>"), "");
    assert.equal(redfishErrorText(undefined), "");
  });
});
