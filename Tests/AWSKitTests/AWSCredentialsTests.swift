import AWSKit
import Foundation
import Testing

@Suite("Credentials never print their secrets")
struct AWSCredentialsTests {
    let credentials = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        sessionToken: "TOKEN-abc123"
    )

    @Test func descriptionRedactsSecretAndToken() {
        for text in [credentials.description, credentials.debugDescription, "\(credentials)", String(reflecting: credentials)] {
            #expect(text.contains("AKIDEXAMPLE"))
            #expect(!text.contains("wJalrXUtnFEMI"))
            #expect(!text.contains("TOKEN-abc123"))
            #expect(text.contains("<redacted>"))
        }
    }

    @Test func descriptionWithoutTokenDoesNotMentionOne() {
        let longTerm = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret-value")
        #expect(!longTerm.description.contains("sessionToken"))
        #expect(!longTerm.description.contains("secret-value"))
    }
}
