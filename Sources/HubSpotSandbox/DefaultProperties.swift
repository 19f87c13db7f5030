import Foundation

/// The HubSpot-defined properties and groups each built-in object type starts with.
enum DefaultProperties {
    static func system(_ type: HubSpotObjectType, group: String) -> [HubSpotProperty] {
        [
            HubSpotProperty(
                name: "hs_object_id", label: "Record ID", type: .number, groupName: group, hubspotDefined: true,
                readOnlyValue: true, createdAt: epoch),
            HubSpotProperty(
                name: type.createdateProperty, label: "Create Date", type: .datetime, groupName: group,
                hubspotDefined: true, readOnlyValue: true, createdAt: epoch),
            HubSpotProperty(
                name: type.lastModifiedProperty, label: "Last Modified Date", type: .datetime, groupName: group,
                hubspotDefined: true, readOnlyValue: true, createdAt: epoch),
        ]
    }

    static let epoch = Date(timeIntervalSince1970: 1_500_000_000)

    private static func text(_ name: String, _ label: String, group: String) -> HubSpotProperty {
        HubSpotProperty(name: name, label: label, type: .string, groupName: group, hubspotDefined: true, createdAt: epoch)
    }

    static let lifecycleStages = [
        "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer", "evangelist", "other",
    ]

    static var contacts: [HubSpotProperty] {
        let group = "contactinformation"
        var properties = [
            text("email", "Email", group: group), text("firstname", "First Name", group: group),
            text("lastname", "Last Name", group: group),
            HubSpotProperty(
                name: "phone", label: "Phone Number", type: .string, fieldType: "phonenumber", groupName: group,
                hubspotDefined: true, createdAt: epoch),
            text("company", "Company Name", group: group), text("website", "Website URL", group: group),
            text("city", "City", group: group), text("state", "State/Region", group: group),
            text("country", "Country/Region", group: group), text("zip", "Postal Code", group: group),
            text("jobtitle", "Job Title", group: group),
            HubSpotProperty(
                name: "lifecyclestage", label: "Lifecycle Stage", type: .enumeration, fieldType: "radio", groupName: group,
                options: lifecycleStages.enumerated().map { index, value in
                    HubSpotProperty.Option(label: value, value: value, displayOrder: index)
                }, hubspotDefined: true, createdAt: epoch),
        ]
        properties += system(.contacts, group: group)
        return properties
    }

    static var companies: [HubSpotProperty] {
        let group = "companyinformation"
        var properties = [
            text("name", "Name", group: group), text("domain", "Company Domain Name", group: group),
            text("website", "Website URL", group: group), text("industry", "Industry", group: group),
            HubSpotProperty(
                name: "phone", label: "Phone Number", type: .string, fieldType: "phonenumber", groupName: group,
                hubspotDefined: true, createdAt: epoch),
            text("city", "City", group: group), text("country", "Country/Region", group: group),
            HubSpotProperty(
                name: "numberofemployees", label: "Number of Employees", type: .number, groupName: group,
                hubspotDefined: true, createdAt: epoch),
            HubSpotProperty(
                name: "annualrevenue", label: "Annual Revenue", type: .number, groupName: group, hubspotDefined: true,
                createdAt: epoch),
            text("address", "Street Address", group: group), text("state", "State/Region", group: group),
            text("zip", "Postal Code", group: group), text("description", "Description", group: group),
            HubSpotProperty(
                name: "lifecyclestage", label: "Lifecycle Stage", type: .enumeration, fieldType: "radio", groupName: group,
                options: lifecycleStages.enumerated().map { index, value in
                    HubSpotProperty.Option(label: value, value: value, displayOrder: index)
                }, hubspotDefined: true, createdAt: epoch),
        ]
        properties += system(.companies, group: group)
        return properties
    }

    static var notes: [HubSpotProperty] {
        let group = "engagement"
        var properties = [
            HubSpotProperty(
                name: "hs_timestamp", label: "Activity date", type: .datetime, groupName: group, hubspotDefined: true,
                createdAt: epoch),
            HubSpotProperty(
                name: "hs_note_body", label: "Note body", type: .string, fieldType: "html", groupName: group,
                hubspotDefined: true, createdAt: epoch),
            text("hubspot_owner_id", "Activity assigned to", group: group),
            text("hs_attachment_ids", "Attached file IDs", group: group),
        ]
        properties += system(.notes, group: group)
        return properties
    }

    static func groups(for type: HubSpotObjectType) -> [HubSpotPropertyGroup] {
        switch type.name {
        case "contacts": [HubSpotPropertyGroup(name: "contactinformation", label: "Contact information", displayOrder: 0)]
        case "companies": [HubSpotPropertyGroup(name: "companyinformation", label: "Company information", displayOrder: 0)]
        case "notes": [HubSpotPropertyGroup(name: "engagement", label: "Engagement", displayOrder: 0)]
        default: [HubSpotPropertyGroup(name: "\(type.singular)_information", label: "Information", displayOrder: 0)]
        }
    }
}
