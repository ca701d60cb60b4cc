import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An element of a parsed XML document: as much of a DOM as reading query-protocol and S3 responses needs.
public struct AWSXMLElement: Sendable, Equatable {
    /// The element name as written, e.g. `TopicArn` (AWS responses use a default namespace, so no prefix).
    public let name: String
    /// The attributes by name.
    public let attributes: [String: String]
    /// The character data directly inside this element, entities decoded; not trimmed, since S3 keys may
    /// begin or end with spaces.
    public let text: String
    /// The child elements in document order.
    public let children: [AWSXMLElement]

    /// Creates an element from its parts.
    public init(name: String, attributes: [String: String] = [:], text: String = "", children: [AWSXMLElement] = []) {
        self.name = name
        self.attributes = attributes
        self.text = text
        self.children = children
    }

    /// The document element of `bytes`.
    public static func parse(_ bytes: [UInt8]) throws(AWSXMLParseError) -> AWSXMLElement {
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        // No DTDs or external entities: responses never need them, and resolving them is an attack surface.
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        let succeeded = parser.parse()
        guard succeeded, let root = builder.root else {
            let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "no document element"
            throw AWSXMLParseError(reason: reason, line: parser.lineNumber)
        }
        return root
    }

    /// The first child named `name`.
    public func child(_ name: String) -> AWSXMLElement? {
        children.first { $0.name == name }
    }

    /// Every child named `name`, in order (e.g. the `member` elements of a list).
    public func children(named name: String) -> [AWSXMLElement] {
        children.filter { $0.name == name }
    }

    /// The element reached by following child names, e.g. `element(at: "CreateTopicResult", "TopicArn")`.
    public func element(at path: String...) -> AWSXMLElement? {
        element(atPath: path)
    }

    /// The text of the element at `path`, or nil when there is no such element.
    public func value(at path: String...) -> String? {
        element(atPath: path)?.text
    }

    private func element(atPath path: [String]) -> AWSXMLElement? {
        path.reduce(self as AWSXMLElement?) { current, name in current?.child(name) }
    }

    /// The first element named `name` in document order, this one included.
    public func firstDescendant(named name: String) -> AWSXMLElement? {
        if self.name == name {
            return self
        }
        for child in children {
            if let found = child.firstDescendant(named: name) {
                return found
            }
        }
        return nil
    }
}

/// A body that is not well-formed XML.
public struct AWSXMLParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What the parser reported.
    public let reason: String
    /// The line it stopped at.
    public let line: Int

    /// `XML parse error at line <n>: <reason>`.
    public var description: String {
        "XML parse error at line \(line): \(reason)"
    }
}

/// Collects `XMLParser` events into `AWSXMLElement`s, innermost element last on the stack.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    private struct Partial {
        let name: String
        let attributes: [String: String]
        var text = ""
        var children: [AWSXMLElement] = []
    }

    private var stack: [Partial] = []
    private(set) var root: AWSXMLElement?

    func parser(
        _ parser: XMLParser,
        didStartElement elementName: String,
        namespaceURI: String?,
        qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        stack.append(Partial(name: elementName, attributes: attributes))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += String(decoding: CDATABlock, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        guard let partial = stack.popLast() else { return }
        let element = AWSXMLElement(
            name: partial.name, attributes: partial.attributes, text: partial.text, children: partial.children
        )
        if stack.isEmpty {
            root = element
        } else {
            stack[stack.count - 1].children.append(element)
        }
    }
}
