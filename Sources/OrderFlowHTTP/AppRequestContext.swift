import Hummingbird

/// The one request context of the OrderFlow HTTP edge.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    /// Bodies are read explicitly with per-route limits, so the framework's default decoder limit is the largest of them.
    public var maxUploadSize: Int { 16 << 20 }
}
