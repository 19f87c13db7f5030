import CLibPQ

/// Owns a `PGresult` and frees it when the last reference goes away. Immutable after creation, so it can be read
/// from any thread.
final class PQResultHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let rowCount: Int
    let columnNames: [String]
    let columnTypes: [UInt32]
    let columnIndex: [String: Int]

    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
        self.rowCount = Int(PQntuples(pointer))
        let columns = Int(PQnfields(pointer))
        var names: [String] = []
        var types: [UInt32] = []
        var index: [String: Int] = [:]
        names.reserveCapacity(columns)
        for column in 0..<columns {
            let name = String(cString: PQfname(pointer, Int32(column)))
            names.append(name)
            types.append(UInt32(PQftype(pointer, Int32(column))))
            if index[name] == nil { index[name] = column }
        }
        self.columnNames = names
        self.columnTypes = types
        self.columnIndex = index
    }

    deinit { PQclear(pointer) }
}

/// The rows a statement returned, decoded on access. A `RandomAccessCollection` of `PQRow`.
public struct PQRows: Sendable, RandomAccessCollection {
    let handle: PQResultHandle
    /// The command tag, for example `INSERT 0 3` or `SELECT 2`.
    public let commandTag: String
    /// Rows inserted, updated, deleted, copied or selected by the command (from the command tag).
    public let affectedRows: Int

    init(handle: PQResultHandle) {
        self.handle = handle
        self.commandTag = String(cString: PQcmdStatus(handle.pointer))
        self.affectedRows = Int(String(cString: PQcmdTuples(handle.pointer))) ?? 0
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { handle.rowCount }
    public subscript(position: Int) -> PQRow { PQRow(handle: handle, row: Int32(position)) }

    /// The result's column names, in order.
    public var columnNames: [String] { handle.columnNames }
}

/// One row of a result. Decode columns by position or by name:
///
/// ```swift
/// let (id, email) = try row.decode((Int64, String?).self)
/// let createdAt = try row.decode(Date.self, column: "created_at")
/// ```
public struct PQRow: Sendable {
    let handle: PQResultHandle
    let row: Int32

    /// The number of columns.
    public var columnCount: Int { handle.columnNames.count }

    /// Whether the column at `index` is SQL `NULL`.
    public func isNull(at index: Int) -> Bool {
        PQgetisnull(handle.pointer, row, Int32(index)) == 1
    }

    /// Decodes the column at `index`.
    public func decode<T: PQDecodable>(_ type: T.Type = T.self, at index: Int) throws -> T {
        guard index >= 0, index < columnCount else {
            throw PQError(code: .decoding, message: "column index \(index) is out of range: the row has \(columnCount) columns")
        }
        let column = Int32(index)
        do {
            if PQgetisnull(handle.pointer, row, column) == 1 {
                return try T.pqDecodeNull()
            }
            let length = Int(PQgetlength(handle.pointer, row, column))
            let value = PQgetvalue(handle.pointer, row, column)!
            return try T(pqText: UnsafeRawBufferPointer(start: value, count: length), typeOID: handle.columnTypes[index])
        } catch let failure as PQDecodingFailure {
            let name = handle.columnNames[index]
            switch failure {
            case .unexpectedNull:
                throw PQError(code: .unexpectedNull, message: "column \"\(name)\" is NULL; decode it as Optional<\(T.self)>")
            case .invalidText(let expected):
                throw PQError(
                    code: .decoding,
                    message: "column \"\(name)\" (type OID \(handle.columnTypes[index])) cannot be decoded as \(expected)")
            }
        }
    }

    /// Decodes the column named `name` (the first one, if several share the name).
    public func decode<T: PQDecodable>(_ type: T.Type = T.self, column name: String) throws -> T {
        guard let index = handle.columnIndex[name] else {
            throw PQError(code: .decoding, message: "the result has no column \"\(name)\"")
        }
        return try decode(T.self, at: index)
    }

    /// Decodes the first columns of the row into a tuple, in order.
    public func decode<each T: PQDecodable>(_ types: (repeat each T).Type) throws -> (repeat each T) {
        var index = 0
        func next<U: PQDecodable>(_ type: U.Type) throws -> U {
            defer { index += 1 }
            return try decode(U.self, at: index)
        }
        return (repeat try next((each T).self))
    }
}
