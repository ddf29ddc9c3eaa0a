import Transforms
import XCTest

final class UUIDParserTests: XCTestCase {
    /// The public check agrees with what a uuid column reads (through the module's public API only).
    func testIsUUIDAcceptsTheFormsAUUIDColumnReads() {
        for good in ["0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70", "0B9E4A52-3C1F-4D7E-9A2B-6F1C8D3E5A70",
                     "{0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70}", "urn:uuid:0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70",
                     "00000000-0000-0000-0000-000000000000"] {
            XCTAssertTrue(UUIDParser.isUUID(good), good)
        }
        for bad in ["", "0b9e4a523c1f4d7e9a2b6f1c8d3e5a70", "0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a7", "0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a7g",
                    "0b9e4a52_3c1f-4d7e-9a2b-6f1c8d3e5a70", " 0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70", "{0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70"] {
            XCTAssertFalse(UUIDParser.isUUID(bad), bad)
        }
    }
}
