/// A mapping file that cannot be used, with where and why.
///
/// The description reads `hubsignal.yaml:12: contacts.properties.firstName.type: unknown type 'text'; use one of string,
/// number, bool, date, datetime` — the file, the line when known, the key path inside the file, and what to change.
public struct MappingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The mapping file's path, or a label such as `<string>` for text that did not come from a file.
    public var file: String
    /// The dotted key path of the offending value (`contacts.properties.firstName.type`, list items as
    /// `custom_objects[0].name`), empty for the whole file.
    public var path: String
    /// What is wrong and what to do about it.
    public var message: String
    /// The line of the offending key or value (1-based), when the YAML parser reported one.
    public var line: Int?

    /// An error at `path` in `file`, with the line when known.
    public init(file: String, path: String, message: String, line: Int? = nil) {
        self.file = file
        self.path = path
        self.message = message
        self.line = line
    }

    /// `file:line: path: message`, leaving out what is unknown or empty.
    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return path.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)"
    }
}
