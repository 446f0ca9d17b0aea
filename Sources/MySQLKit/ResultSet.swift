/// The rows of a text-protocol result set, every value as the server's text or nil for NULL.
public struct ResultSet: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[String?]]

    public init(columns: [String], rows: [[String?]]) {
        self.columns = columns
        self.rows = rows
    }

    /// The value of `column` in row `index`; nil when the row, the column or the value is missing.
    public func value(_ column: String, row index: Int) -> String? {
        guard index < rows.count, let c = columns.firstIndex(of: column) else { return nil }
        return rows[index][c]
    }
}

/// Reads the answer to COM_QUERY packet by packet (Protocol::COM_Query_Response), in the old form with EOF packets
/// and in the CLIENT_DEPRECATE_EOF form. Socket-free: feed it each packet until it returns a result.
struct QueryResponseReader {
    enum Phase { case start, columns, columnsEOF, rows }

    let capabilities: Capabilities
    let maxRows: Int
    let maxColumns: Int
    private(set) var phase = Phase.start
    private var columnCount = 0
    private var result = ResultSet(columns: [], rows: [])

    init(capabilities: Capabilities, maxRows: Int, maxColumns: Int = 4096) {
        self.capabilities = capabilities
        self.maxRows = maxRows
        self.maxColumns = maxColumns
    }

    /// The result once the response is complete; nil while more packets are due.
    mutating func consume(_ payload: [UInt8]) throws(MySQLError) -> ResultSet? {
        switch phase {
        case .start:
            switch payload.first {
            case 0x00:
                guard case .ok(let status) = try ServerReply(payload, capabilities: capabilities) else {
                    throw .malformed("OK expected")
                }
                try Self.checkSingle(status)
                return result
            case 0xFF: throw ServerReply.error(payload, capabilities: capabilities)
            case 0xFB: throw .malformed("the server asked for a local file (LOAD DATA LOCAL is not supported)")
            case nil: throw .truncated("empty query response")
            default:
                var r = PayloadReader(payload, "column count")
                guard let count = try r.lengthEncoded(), count > 0, r.atEnd else {
                    throw .malformed("bad column count")
                }
                guard count <= UInt64(maxColumns) else { throw .malformed("\(count) columns, over \(maxColumns)") }
                columnCount = Int(count)
                phase = .columns
            }
        case .columns:
            result.columns.append(try Self.columnName(payload))
            if result.columns.count == columnCount {
                phase = capabilities.contains(.deprecateEOF) ? .rows : .columnsEOF
            }
        case .columnsEOF:
            guard Self.isEOF(payload) else { throw .malformed("EOF expected after the column definitions") }
            phase = .rows
        case .rows:
            switch payload.first {
            case 0xFF: throw ServerReply.error(payload, capabilities: capabilities)
            // A row starting 0xFE would hold a value of 16 MB or more, which no packet here can carry: the end.
            case 0xFE:
                try Self.checkSingle(try Self.endStatus(payload, deprecateEOF: capabilities.contains(.deprecateEOF)))
                return result
            default:
                guard result.rows.count < maxRows else { throw .malformed("more than \(maxRows) rows") }
                result.rows.append(try row(payload))
            }
        }
        return nil
    }

    private func row(_ payload: [UInt8]) throws(MySQLError) -> [String?] {
        var r = PayloadReader(payload, "row")
        var values: [String?] = []
        values.reserveCapacity(columnCount)
        for _ in 0..<columnCount {
            values.append(try r.lengthEncodedBytes().map { String(decoding: $0, as: UTF8.self) })
        }
        guard r.atEnd else { throw .malformed("row has bytes after its \(columnCount) values") }
        return values
    }

    /// The name of a column (Protocol::ColumnDefinition41).
    static func columnName(_ payload: [UInt8]) throws(MySQLError) -> String {
        var r = PayloadReader(payload, "column definition")
        for _ in 0..<4 { _ = try r.lengthEncodedBytes() }  // catalog, schema, table, original table
        let name = try r.lengthEncodedString()
        _ = try r.lengthEncodedBytes()  // original name
        guard let fixed = try r.lengthEncoded(), fixed >= 0x0C, UInt64(r.remaining) >= fixed else {
            throw .truncated("column definition")
        }
        return name
    }

    /// Protocol 4.1's EOF packet: 0xFE, warnings, status.
    static func isEOF(_ payload: [UInt8]) -> Bool { payload.first == 0xFE && payload.count == 5 }

    /// The status flags of the packet that ends the rows: an EOF packet, or with CLIENT_DEPRECATE_EOF an OK packet
    /// with the 0xFE header.
    static func endStatus(_ payload: [UInt8], deprecateEOF: Bool) throws(MySQLError) -> Int {
        var r = PayloadReader(payload, "end of rows")
        try r.skip(1)
        if deprecateEOF {
            _ = try r.lengthEncoded()
            _ = try r.lengthEncoded()
            return r.remaining >= 2 ? try r.u16() : 0
        }
        guard payload.count < 9 else { throw .malformed("EOF packet of \(payload.count) bytes") }
        _ = try r.u16()  // warnings
        return try r.u16()
    }

    static func checkSingle(_ status: Int) throws(MySQLError) {
        if ServerStatus(rawValue: status).contains(.moreResultsExist) {
            throw .malformed("more than one result set (one statement per query)")
        }
    }
}
