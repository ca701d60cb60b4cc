/// One service's use of an AWS wire protocol: how its requests are signed and how its error responses are read.
///
/// The encoders live on the conforming types (`AWSJSONProtocol`, `AWSQueryProtocol`, `AWSRESTXMLProtocol`);
/// `AWSClient` needs only this much, because it decodes errors itself to decide whether to retry.
public protocol AWSWireProtocol: Sendable {
    /// The service the requests go to.
    var service: AWSService { get }
    /// The SigV4 variations the service expects.
    var signingOptions: SigV4Options { get }
    /// Decodes a non-2xx response of `operation` into a service error; never fails, falling back to the status.
    func decodeError(_ response: AWSHTTPResponse, operation: String) -> AWSServiceError
}
