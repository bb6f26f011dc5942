import QMP
import Testing
@testable import QMPLineSyntax

@Suite(.timeLimit(.minutes(1))) struct CommandLineTests {
    @Test(arguments: [
        // Plain commands; whitespace around and between tokens does not matter.
        ("query-status", #"{"execute":"query-status"}"#),
        ("   query-status   ", #"{"execute":"query-status"}"#),
        ("query-block\t", #"{"execute":"query-block"}"#),
        (#""query-status""#, #"{"execute":"query-status"}"#),
        ("stop # pause the guest", #"{"execute":"stop"}"#),
        ("cont\r", #"{"execute":"cont"}"#),
        // The peer keeps the quotes in the value; we remove them.
        (
            #"human-monitor-command command-line="info version""#,
            #"{"execute":"human-monitor-command","arguments":{"command-line":"info version"}}"#
        ),
        (
            "human-monitor-command command-line='info block'",
            #"{"execute":"human-monitor-command","arguments":{"command-line":"info block"}}"#
        ),
        // The peer sends the string "null".
        (
            "blockdev-add driver=qcow2 node-name=n1 file=f1 backing=null",
            #"{"execute":"blockdev-add","arguments":{"driver":"qcow2","node-name":"n1","file":"f1","backing":null}}"#
        ),
        // The peer puts c inside a.
        ("x a.b=1 c=2", #"{"execute":"x","arguments":{"a":{"b":1},"c":2}}"#),
        (
            "blockdev-add node-name=disk driver=qcow2 file.driver=file file.filename=/tmp/a.qcow2 read-only=true",
            #"{"execute":"blockdev-add","arguments":{"node-name":"disk","driver":"qcow2","file":{"driver":"file","filename":"/tmp/a.qcow2"},"read-only":true}}"#
        ),
        ("x a.b.c=1 a.b.d=2 a.e=3 f=4", #"{"execute":"x","arguments":{"a":{"b":{"c":1,"d":2},"e":3},"f":4}}"#),
        ("x a.b=1 z=0 a.c=2", #"{"execute":"x","arguments":{"a":{"b":1,"c":2},"z":0}}"#),
        // Only unquoted dots nest, so vendor names with dots can be written.
        (
            #"x "__com.redhat_x"=1 a."b.c".d=2"#,
            #"{"execute":"x","arguments":{"__com.redhat_x":1,"a":{"b.c":{"d":2}}}}"#
        ),
        ("__org.qemu_x-command a=1", #"{"execute":"__org.qemu_x-command","arguments":{"a":1}}"#),
        // A value starting with { or [ runs to its closing bracket, spaces included.
        (
            #"blockdev-create job-id=j0 options={"driver": "qcow2", "size": 1048576}"#,
            #"{"execute":"blockdev-create","arguments":{"job-id":"j0","options":{"driver":"qcow2","size":1048576}}}"#
        ),
        (
            #"x o={"a": "b]c}", "d": [1, [2, 3]]} e=1"#,
            #"{"execute":"x","arguments":{"o":{"a":"b]c}","d":[1,[2,3]]},"e":1}}"#
        ),
        (#"x o={"a": "quote \" and ] inside"}"#, #"{"execute":"x","arguments":{"o":{"a":"quote \" and ] inside"}}}"#),
        ("x l=[1, 2, 3] m=[] o={}", #"{"execute":"x","arguments":{"l":[1,2,3],"m":[],"o":{}}}"#),
        (#"x l=[{"a": 18446744073709551615}]"#, #"{"execute":"x","arguments":{"l":[{"a":18446744073709551615}]}}"#),
        // JSON values that are not objects or arrays are not bracketed: they are typed by the word rules.
        // Python literals.
        (
            "x o={'driver': 'qcow2', 'discard': True, 'x': None,}",
            #"{"execute":"x","arguments":{"o":{"driver":"qcow2","discard":true,"x":null}}}"#
        ),
        ("x o={'a': ']'} l=[(1, 2), (3,)]", #"{"execute":"x","arguments":{"o":{"a":"]"},"l":[[1,2],[3]]}}"#),
        (
            "x o={'discard': true, 'backing': null}",
            #"{"execute":"x","arguments":{"o":{"discard":true,"backing":null}}}"#
        ),
        // Plain commands named transaction still work.
        ("transaction actions=[]", #"{"execute":"transaction","arguments":{"actions":[]}}"#),
        ("x s=héllo wörld=ü", #"{"execute":"x","arguments":{"s":"héllo","wörld":"ü"}}"#),
        ("x a=b#c", #"{"execute":"x","arguments":{"a":"b#c"}}"#),
        ("x a=1 # b=2", #"{"execute":"x","arguments":{"a":1}}"#),
    ])
    func command(line: String, expected: String) {
        #expect(outcome(of: line) == expected)
    }

    @Test(arguments: [
        // Quoted → string, whatever it looks like.
        (#"x s="7""#, #"{"s":"7"}"#),
        ("x s='true'", #"{"s":"true"}"#),
        (#"x s="null""#, #"{"s":"null"}"#),
        (#"x s="[1]""#, #"{"s":"[1]"}"#),
        (#"x s="""#, #"{"s":""}"#),
        ("x s=", #"{"s":""}"#),
        (#"x s="a=b""#, #"{"s":"a=b"}"#),
        ("x s=a=b", #"{"s":"a=b"}"#),
        (#"x s=/tmp/"my file".img"#, #"{"s":"/tmp/my file.img"}"#),
        (#"x s="a \"q\" b""#, #"{"s":"a \"q\" b"}"#),
        (#"x s="tab\there\nline""#, #"{"s":"tab\there\nline"}"#),
        (#"x s="back\\slash""#, #"{"s":"back\\slash"}"#),
        (#"x s="a\d+""#, #"{"s":"a\\d+"}"#),
        (#"x s='it\'s'"#, #"{"s":"it's"}"#),
        (#"x s='a\nb\\c'"#, #"{"s":"a\\nb\\c"}"#),
        (#"x s="it's""#, #"{"s":"it's"}"#),
        (#"x s='say "hi"'"#, #"{"s":"say \"hi\""}"#),
        (#"x s=a\b"#, #"{"s":"a\\b"}"#),
        // Booleans in any case; null only as written.
        ("x a=true b=FALSE c=True d=fAlSe", #"{"a":true,"b":false,"c":true,"d":false}"#),
        ("x a=null b=NULL c=None d=nil", #"{"a":null,"b":"NULL","c":"None","d":"nil"}"#),
        // Integers, kept exactly; leading zeros and + dropped as Python's int() does.
        ("x n=0 m=-7 o=42", #"{"n":0,"m":-7,"o":42}"#),
        ("x n=18446744073709551615", #"{"n":18446744073709551615}"#),
        ("x n=-9223372036854775808", #"{"n":-9223372036854775808}"#),
        ("x n=123456789012345678901234567890", #"{"n":123456789012345678901234567890}"#),
        ("x n=007 m=+5 o=-00", #"{"n":7,"m":5,"o":-0}"#),
        ("x n=0x1000 m=0XfF o=-0x10", #"{"n":4096,"m":255,"o":-16}"#),
        ("x n=0xFFFFFFFFFFFFFFFF", #"{"n":18446744073709551615}"#),
        // Decimals with a fraction or an exponent.
        ("x a=1.5 b=-0.25 c=2e9 d=1E-3 e=-1.5e+3", #"{"a":1.5,"b":-0.25,"c":2e9,"d":1E-3,"e":-1.5e+3}"#),
        ("x a=.5 b=5. c=-.5 d=00.5", #"{"a":0.5,"b":5.0,"c":-0.5,"d":0.5}"#),
        // Everything else is a string.
        (
            "x a=1.2.3 b=10.0.0.1 c=0x d=1e e=- f=inf g=nan h=1_000 i=0x1G j=0x10000000000000000",
            #"{"a":"1.2.3","b":"10.0.0.1","c":"0x","d":"1e","e":"-","f":"inf","g":"nan","h":"1_000","i":"0x1G","j":"0x10000000000000000"}"#
        ),
        ("x a=on b=yes c=off", #"{"a":"on","b":"yes","c":"off"}"#),
        ("x a=/dev/null b=unix:/tmp/qmp.sock", #"{"a":"/dev/null","b":"unix:/tmp/qmp.sock"}"#),
    ])
    func valueTyping(line: String, expectedArguments: String) {
        #expect(outcome(of: line) == #"{"execute":"x","arguments":"# + expectedArguments + "}")
    }

    @Test(arguments: [
        (#"{"execute": "query-status", "id": 1}"#, #"{"execute":"query-status","id":1}"#),
        (
            #"  {"execute":"x","arguments":{"b":1,"a":18446744073709551615}}"#,
            #"{"execute":"x","arguments":{"b":1,"a":18446744073709551615}}"#
        ),
        // Sent as written, even if QEMU will refuse it.
        (#"{"foo": "bar"}"#, #"{"foo":"bar"}"#),
        // Single-quoted strings, as QEMU's parser takes them and its documentation writes them,
        // are sent as standard JSON.
        (
            #"{"execute": "calc-dirty-rate", "arguments": {"calc-time": 1, 'sample-pages': 512}}"#,
            #"{"execute":"calc-dirty-rate","arguments":{"calc-time":1,"sample-pages":512}}"#
        ),
        (
            #"{'execute': 'x', 'arguments': {'a': 'it\'s "q"', "b": "\'"}}"#,
            #"{"execute":"x","arguments":{"a":"it's \"q\"","b":"'"}}"#
        ),
    ])
    func rawMessage(line: String, expected: String) {
        #expect(outcome(of: line) == expected)
    }

    @Test(arguments: ["", "   ", "\t", "# a comment", "   # an indented comment", "#no space"])
    func nothingToSend(line: String) {
        #expect(outcome(of: line) == "")
    }

    @Test(arguments: [
        (".wait JOB_STATUS_CHANGE id=j0 status=concluded", ".wait [JOB_STATUS_CHANGE id=j0 status=concluded]"),
        (".quit", ".quit []"),
        ("  .sleep   1.5  ", ".sleep [1.5]"),
        (#".add-fd /tmp/f opaque="x  y""#, #".add-fd [/tmp/f opaque="x  y"]"#),
        (".echo hello   world", ".echo [hello   world]"),
        (".help2 query-status", ".help2 [query-status]"),
    ])
    func directive(line: String, expected: String) {
        #expect(outcome(of: line) == expected)
    }
}
