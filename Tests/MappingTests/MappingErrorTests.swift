import Mapping
import Testing

@Suite struct MappingErrorTests {
    @Test func descriptionNamesFilePathAndProblem() {
        let error = MappingError(file: "hubsignal.yaml", path: "contacts.unknown_traits", message: "expected 'drop' or 'create'")
        #expect(error.description == "hubsignal.yaml: contacts.unknown_traits: expected 'drop' or 'create'")
        #expect(MappingError(file: "m.yaml", path: "", message: "empty file").description == "m.yaml: empty file")
    }
}
