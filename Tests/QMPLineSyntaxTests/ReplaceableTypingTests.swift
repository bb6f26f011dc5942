import QMP
import Testing
@testable import QMPLineSyntax

@Suite(.timeLimit(.minutes(1))) struct ReplaceableTypingTests {
    @Test func theInjectedTypingDecides() throws {
        var parser = LineParser(valueTyping: OwnerEchoTyping())
        #expect(
            render(try parser.parse("block-job-set-speed device=7 speed=100"))
                == #"{"execute":"block-job-set-speed","arguments":{"device":"block-job-set-speed:device=7","speed":"block-job-set-speed:speed=100"}}"#
        )
        #expect(
            render(try parser.parse("transaction( abort a.b=1 )"))
                == #"{"execute":"transaction","arguments":{"actions":[{"type":"abort","data":{"a":{"b":"action abort:a.b=1"}}}]}}"#
        )
        let arguments = try LineParser.parseArguments("EVENT id=j0", directive: "wait", valueTyping: OwnerEchoTyping())
        #expect(JSONValue.object(arguments.arguments).serialized() == #"{"id":".wait:id=j0"}"#)
    }

    @Test func typingCanBeSwappedOnALiveParser() throws {
        var parser = LineParser()
        #expect(render(try parser.parse("x name=7")) == #"{"execute":"x","arguments":{"name":7}}"#)
        parser.valueTyping = OwnerEchoTyping()
        #expect(render(try parser.parse("x name=7")) == #"{"execute":"x","arguments":{"name":"x:name=7"}}"#)
    }
}

/// A stand-in for a schema-aware typing: shows that typing is replaceable and receives its owner.
private struct OwnerEchoTyping: ValueTyping {
    func value(of argument: ArgumentToken, in owner: ArgumentOwner) throws(LineParseError) -> JSONValue {
        switch owner {
        case .command(let name): .string("\(name):\(argument.key)=\(argument.text)")
        case .transactionAction(let type): .string("action \(type):\(argument.key)=\(argument.text)")
        case .directive(let name): .string(".\(name):\(argument.key)=\(argument.text)")
        }
    }
}
