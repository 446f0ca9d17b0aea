@testable import HTTPKit
import Testing
@testable import SystemKit
@testable import ServiceKit

/// Every move of a connection's state, as a table: where it is, what happens, where it goes.
@Suite struct ConnectionStateTests {
    typealias State = Connection.State
    static let now: UInt64 = 50_000_000_000
    static func at(_ seconds: Double) -> Deadline { Deadline(nanos: now + UInt64(seconds * 1e9)) }
    static let earlier = Deadline(nanos: 40_000_000_000)

    static let table: [(State, Connection.Move, State)] = [
        // The head's deadline runs from its first byte, whatever arrives after it.
        (.idle(since: 1, fresh: true), .partialRequest(inBody: false), .head(deadline: at(10))),
        (.idle(since: 1, fresh: false), .partialRequest(inBody: false), .head(deadline: at(10))),
        (.head(deadline: earlier), .partialRequest(inBody: false), .head(deadline: earlier)),
        // The body's from the end of the head.
        (.head(deadline: earlier), .partialRequest(inBody: true), .body(deadline: at(30))),
        (.idle(since: 1, fresh: true), .partialRequest(inBody: true), .body(deadline: at(30))),
        (.body(deadline: earlier), .partialRequest(inBody: true), .body(deadline: earlier)),
        (.idle(since: 1, fresh: false), .requestParsed, .working),
        (.head(deadline: earlier), .requestParsed, .working),
        (.body(deadline: earlier), .requestParsed, .working),
        (.working, .responseQueued(then: .keepAlive), .responding(then: .keepAlive)),
        (.working, .responseQueued(then: .close), .responding(then: .close)),
        // A timeout or a parse error answered by the server itself.
        (.head(deadline: earlier), .responseQueued(then: .linger), .responding(then: .linger)),
        (.idle(since: 1, fresh: true), .responseQueued(then: .linger), .responding(then: .linger)),
        (.responding(then: .keepAlive), .responseWritten, .idle(since: now, fresh: false)),
        (.responding(then: .close), .responseWritten, .closed),
        (.responding(then: .linger), .responseWritten, .lingering(deadline: at(1))),
        // Moves that make no sense where the connection is leave it there.
        (.working, .partialRequest(inBody: false), .working),
        (.working, .responseWritten, .working),
        (.lingering(deadline: earlier), .responseQueued(then: .keepAlive), .lingering(deadline: earlier)),
        (.idle(since: 1, fresh: true), .responseWritten, .idle(since: 1, fresh: true)),
        (.closed, .requestParsed, .closed),
        (.closed, .responseQueued(then: .keepAlive), .closed),
        (.working, .closed, .closed),
        (.idle(since: 1, fresh: true), .closed, .closed),
    ]

    @Test(arguments: table.indices)
    func move(_ index: Int) {
        let (state, move, expected) = Self.table[index]
        #expect(Connection.after(state, move, now: Self.now, timeouts: (header: 10, body: 30)) == expected)
    }

    @Test func busyFromTheFirstByteUntilTheResponseIsWritten() {
        let busy: [State] = [
            .head(deadline: Self.earlier), .body(deadline: Self.earlier), .working,
            .responding(then: .keepAlive),
        ]
        let notBusy: [State] = [.idle(since: 1, fresh: true), .lingering(deadline: Self.earlier), .closed]
        #expect(busy.allSatisfy { $0.isBusy })
        #expect(!notBusy.contains { $0.isBusy })
    }

    /// The input side: read until a short read, then wait for the next event, unless the peer sent its FIN.
    @Test(arguments: [
        (Connection.Input.empty, Epoll.readable, false, Connection.Input.unread),
        (.unread, Epoll.readable | Epoll.readHangUp, false, .ending),
        (.ending, Epoll.readable, false, .ending),
        (.empty, Epoll.readHangUp, true, .gone),
        (.empty, Epoll.hangUp, true, .gone),
        (.unread, Epoll.readable | Epoll.hangUp, true, .unread),
        (.gone, Epoll.readable | Epoll.readHangUp, false, .gone),
    ])
    func input(_ before: Connection.Input, _ flags: UInt32, _ onLoop: Bool, _ after: Connection.Input) throws {
        let connection = Connection(socket: Socket(fd: -1), peer: "", token: 1, limits: ParserLimits())
        connection.input = before
        connection.noteEvent(flags)
        if onLoop { connection.noteHangUp(flags) }
        #expect(connection.input == after)
    }
}
