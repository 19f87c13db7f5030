/// Encodes rows in `COPY … FROM STDIN` text format and hands them to the server in large chunks.
///
/// Write fields with `append(_:)` and finish each row with `endRow()`; escaping of tabs, newlines, carriage returns
/// and backslashes is done here, and `nil` becomes `\N` (NULL).
public struct PQCopyWriter: ~Copyable {
    private var buffer: [UInt8] = []
    private var fieldsInRow = 0
    private let chunkSize: Int
    private let send: ([UInt8]) throws -> Void
    /// Rows finished so far.
    public private(set) var rowCount = 0

    init(chunkSize: Int = 256 * 1024, send: @escaping ([UInt8]) throws -> Void) {
        self.chunkSize = chunkSize
        self.send = send
        buffer.reserveCapacity(chunkSize + 4096)
    }

    private mutating func startField() {
        if fieldsInRow > 0 { buffer.append(UInt8(ascii: "\t")) }
        fieldsInRow += 1
    }

    /// Appends a text field (UTF-8 bytes), escaped for COPY's text format.
    public mutating func append(bytes: UnsafeRawBufferPointer) {
        startField()
        // Copy runs without special characters in bulk; escape the rest.
        var runStart = 0
        for index in 0..<bytes.count {
            let escaped: UInt8
            switch bytes[index] {
            case UInt8(ascii: "\\"): escaped = UInt8(ascii: "\\")
            case UInt8(ascii: "\t"): escaped = UInt8(ascii: "t")
            case UInt8(ascii: "\n"): escaped = UInt8(ascii: "n")
            case UInt8(ascii: "\r"): escaped = UInt8(ascii: "r")
            default: continue
            }
            if index > runStart { buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]).assumingMemoryBound(to: UInt8.self)) }
            buffer.append(UInt8(ascii: "\\"))
            buffer.append(escaped)
            runStart = index + 1
        }
        if bytes.count > runStart {
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<bytes.count]).assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Appends a text field (UTF-8 bytes), escaped for COPY's text format.
    public mutating func append(bytes: [UInt8]) {
        bytes.withUnsafeBytes { append(bytes: $0) }
    }

    /// Appends a text field, or NULL for `nil`.
    public mutating func append(_ value: String?) {
        guard var value else {
            startField()
            buffer.append(UInt8(ascii: "\\"))
            buffer.append(UInt8(ascii: "N"))
            return
        }
        value.withUTF8 { append(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Ends the current row; sends the buffer to the server when it is full.
    public mutating func endRow() throws {
        buffer.append(UInt8(ascii: "\n"))
        fieldsInRow = 0
        rowCount += 1
        if buffer.count >= chunkSize { try flush() }
    }

    /// Sends what is buffered.
    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try send(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
