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

    @Test func dumpAndEnclosingValuesDoNotRevealThem() {
        var dumped = ""
        dump(credentials, to: &dumped)
        var dumpedResolution = ""
        dump(AWSCredentialResolution.found(credentials), to: &dumpedResolution)
        var dumpedSigner = ""
        let signer = SigV4Signer(region: "us-east-1", service: "s3")
        let request = SigV4Request(method: "GET", path: "/", headers: [.init("Host", "example.com")])
        _ = signer.signHeaders(request, credentials: credentials, date: Date(timeIntervalSince1970: 0))
        dump(signer, to: &dumpedSigner)
        let inEnum = "\(AWSCredentialResolution.found(credentials))"
        for text in [dumped, dumpedResolution, dumpedSigner, inEnum] {
            #expect(!text.contains("wJalrXUtnFEMI"))
            #expect(!text.contains("TOKEN-abc123"))
        }
        #expect(dumped.contains("AKIDEXAMPLE"))
    }

    @Test func descriptionWithoutTokenDoesNotMentionOne() {
        let longTerm = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret-value")
        #expect(!longTerm.description.contains("sessionToken"))
        #expect(!longTerm.description.contains("secret-value"))
    }
}
