#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import SystemKit

extension HTTPClient {
    /// One request of a batch.
    public struct Call: Sendable {
        public var method: HTTPMethod
        public var url: URL
        public var headers: HTTPHeaders
        public var body: [UInt8]
        public var deadline: Deadline

        public init(
            _ method: HTTPMethod, _ url: URL, headers: HTTPHeaders = [:], body: [UInt8] = [], deadline: Deadline
        ) {
            self.method = method
            self.url = url
            self.headers = headers
            self.body = body
            self.deadline = deadline
        }

        /// The request's bytes; a header that cannot be sent is `invalidHeader`.
        func bytes(keepAlive: Bool) throws(HTTPClientError) -> [UInt8] {
            do {
                return try MessageWriter.request(
                    method: method, target: url.target, host: url.authority, headers: headers, body: body,
                    keepAlive: keepAlive)
            } catch let error as MessageWriter.InvalidHeader {
                throw .invalidHeader(error.name)
            } catch {
                throw .protocolError("\(error)")
            }
        }

        /// Pooled connections are kept per `host:port` (the authority).
        var poolKey: String { url.authority }

        /// Whether the call is sent again on a fresh connection after its pooled one ended before any answer: the
        /// server had closed it while idle, and the method may be repeated.
        func retriesAfterStaleConnection(reused: Bool, receivedAny: Bool) -> Bool {
            reused && !receivedAny && method != .post && method != .patch
        }
    }

    private struct InFlight {
        let index: Int
        let socket: Socket
        let key: String
        let reused: Bool
        var parser: ResponseParser
        var receivedAny = false
    }

    /// Sends every call, then waits for all the responses at once on this thread (one `poll` over their sockets),
    /// so a batch costs its slowest call and no extra thread. Each call keeps its own deadline. A single
    /// `request` is a batch of one.
    public func perform(_ calls: [Call]) -> [Result<ClientResponse, HTTPClientError>] {
        var results = [Result<ClientResponse, HTTPClientError>?](repeating: nil, count: calls.count)
        var inFlight: [InFlight] = []
        for (index, call) in calls.enumerated() {
            do {
                inFlight.append(try start(call, index: index, pooled: true))
            } catch let error as HTTPClientError {
                results[index] = .failure(error)
            } catch {
                results[index] = .failure(.protocolError("\(error)"))
            }
        }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while !inFlight.isEmpty {
            var fds = inFlight.map { pollfd(fd: $0.socket.fd, events: Int16(POLLIN), revents: 0) }
            let earliest = inFlight.map { calls[$0.index].deadline }.min() ?? .now
            if poll(&fds, nfds_t(fds.count), earliest.remainingMilliseconds) < 0, errno == EINTR { continue }
            var done: Set<Int> = []
            for position in inFlight.indices {
                let call = calls[inFlight[position].index]
                if fds[position].revents == 0 {
                    if call.deadline.hasPassed {
                        inFlight[position].socket.close()
                        results[inFlight[position].index] = .failure(.timedOut(inFlight[position].key))
                        done.insert(position)
                    }
                    continue
                }
                let count = buffer.withUnsafeMutableBytes {
                    recv(inFlight[position].socket.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
                }
                if count < 0, errno == EAGAIN || errno == EINTR { continue }
                switch advance(&inFlight[position], call, buffer: buffer, count: count) {
                case .waiting:
                    break
                case .finished(let result):
                    results[inFlight[position].index] = result
                    done.insert(position)
                case .staleConnection:
                    // The server closed the pooled connection before answering: once more, on a fresh one.
                    do {
                        inFlight[position] = try start(call, index: inFlight[position].index, pooled: false)
                    } catch {
                        results[inFlight[position].index] = .failure(
                            error as? HTTPClientError ?? .protocolError("\(error)"))
                        done.insert(position)
                    }
                }
            }
            inFlight = inFlight.enumerated().filter { !done.contains($0.offset) }.map(\.element)
        }
        return results.map { $0 ?? .failure(.protocolError("no result")) }
    }

    private func start(_ call: Call, index: Int, pooled: Bool) throws -> InFlight {
        let bytes = try call.bytes(keepAlive: configuration.keepAlive)
        let key = call.poolKey
        var parser = configuration.responseParser()
        parser.requestWasHead = call.method == .head
        if pooled, configuration.keepAlive, let socket = takeIdle(key) {
            if (try? socket.send(bytes)) != nil {
                return InFlight(index: index, socket: socket, key: key, reused: true, parser: parser)
            }
            socket.close()
        }
        let socket = try connect(call.url, deadline: call.deadline)
        // Reads wait with poll and the deadline; a send blocks only on a peer that stops reading, so a new
        // connection gets the first call's deadline as its send timeout and keeps it.
        socket.setTimeouts(receive: nil, send: Double(call.deadline.remainingMilliseconds) / 1000 + 0.001)
        do { try socket.send(bytes) } catch {
            socket.close()
            throw HTTPClientError.connectionClosed(key)
        }
        return InFlight(index: index, socket: socket, key: key, reused: false, parser: parser)
    }

    private enum Progress {
        case waiting
        case finished(Result<ClientResponse, HTTPClientError>)
        case staleConnection
    }

    /// Feeds what arrived (`count` bytes, or 0 / -1 at the end of the connection).
    private func advance(_ entry: inout InFlight, _ call: Call, buffer: [UInt8], count: Int) -> Progress {
        if count <= 0 {
            entry.socket.close()
            if call.retriesAfterStaleConnection(reused: entry.reused, receivedAny: entry.receivedAny) {
                return .staleConnection
            }
            return .finished(entry.parser.resultAtEnd(receivedAny: entry.receivedAny, key: entry.key))
        }
        entry.receivedAny = true
        buffer.withUnsafeBytes { entry.parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        switch entry.parser.next() {
        case .needMore:
            return .waiting
        case .error(let error):
            entry.socket.close()
            return .finished(.failure(.protocolError(error.description)))
        case .response(let response):
            if configuration.mayPool(response, after: entry.parser) {
                putIdle(entry.key, entry.socket)
            } else {
                entry.socket.close()
            }
            return .finished(.success(response))
        }
    }
}

extension ClientConfiguration {
    /// A parser for one response, with this configuration's limits.
    func responseParser() -> ResponseParser {
        ResponseParser(limits: limits, maxBodyBytes: maxResponseBodyBytes)
    }

    /// Whether the connection that carried `response` may go back to the pool: keep-alive on both sides and
    /// nothing buffered beyond the response.
    func mayPool(_ response: ClientResponse, after parser: ResponseParser) -> Bool {
        keepAlive && response.keepAlive && !parser.hasBufferedBytes
    }
}

extension ResponseParser {
    /// The result of a connection that ended: a close-delimited response, or why there is none.
    mutating func resultAtEnd(receivedAny: Bool, key: String) -> Result<ClientResponse, HTTPClientError> {
        switch finishAtEOF() {
        case .response(let response): return .success(response)
        case .error(let error):
            return .failure(receivedAny ? .protocolError(error.description) : .connectionClosed(key))
        case .needMore: return .failure(.connectionClosed(key))
        }
    }
}
