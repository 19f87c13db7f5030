import Foundation

/// A minimal blocking HTTP/1.1 exchange over a plain socket: the request is sent byte for byte as given (so tests can
/// send what no well-behaved client would), and the whole response is read until the server closes the connection.
public enum RawHTTP {
    /// A parsed response.
    public struct Response: Sendable {
        public var status: Int
        /// Header lines as received (names as sent by the server).
        public var headers: [(name: String, value: String)]
        public var body: String

        /// The first header with this name (case-insensitive).
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    /// Sends `request` (a complete HTTP/1.1 request, normally with `Connection: close`) to 127.0.0.1:`port`.
    public static func send(port: Int, request: String, timeout: Duration = .seconds(30)) throws -> Response {
        try send(port: port, bytes: Array(request.utf8), timeout: timeout)
    }

    /// Sends raw request bytes to 127.0.0.1:`port`.
    public static func send(port: Int, bytes: [UInt8], timeout: Duration = .seconds(30)) throws -> Response {
        try parse(exchange(port: port, bytes: bytes, timeout: timeout))
    }

    /// A blocking TCP socket connected to 127.0.0.1:`port`; the caller closes it.
    public static func connectLoopback(port: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw POSIXError(.ECONNREFUSED)
        }
        return descriptor
    }

    /// Sends raw request bytes to 127.0.0.1:`port` and returns the response bytes as received, unparsed.
    public static func exchange(port: Int, bytes: [UInt8], timeout: Duration = .seconds(30)) throws -> [UInt8] {
        let descriptor = try connectLoopback(port: port)
        defer { close(descriptor) }
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard written > 0 else { throw POSIXError(.EPIPE) }
            sent += written
        }
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0 { throw POSIXError(.ETIMEDOUT) }
            if count == 0 { break }
            received.append(contentsOf: buffer[0..<count])
        }
        return received
    }

    static func parse(_ bytes: [UInt8]) throws -> Response {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let headerEnd = text.range(of: "\r\n\r\n") else { throw POSIXError(.ECONNRESET) }
        let lines = text[..<headerEnd.lowerBound].split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw POSIXError(.EPROTO) }
        let headers = lines.dropFirst().compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var body = String(text[headerEnd.upperBound...])
        if headers.contains(where: { $0.name.lowercased() == "transfer-encoding" && $0.value.lowercased() == "chunked" }) {
            body = dechunk(body)
        }
        return Response(status: status, headers: headers, body: body)
    }

    private static func dechunk(_ body: String) -> String {
        var result = ""
        var rest = Substring(body)
        while let lineEnd = rest.range(of: "\r\n"), let size = Int(rest[..<lineEnd.lowerBound], radix: 16), size > 0 {
            let start = lineEnd.upperBound
            let utf8 = rest.utf8
            guard let end = utf8.index(start, offsetBy: size, limitedBy: utf8.endIndex) else { break }
            result += String(rest[start..<end])
            rest = rest[end...].dropFirst(2)
        }
        return result
    }
}
