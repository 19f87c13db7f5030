#!/usr/bin/env python3
"""Writes Sources/OneSignalSandbox/OneSignalSchemas.swift from the OneSignal OpenAPI document (v5.12.0, MIT).

Usage: scripts/generate-onesignal-schemas.py PATH/TO/onesignal-openapi-v5.12.0.yaml > Sources/OneSignalSandbox/OneSignalSchemas.swift

Needs PyYAML. `$ref`, `allOf` and `anyOf` are resolved and merged, read-only members left out, `oneOf` becomes
`anyOf`; the schemas listed in NAMED are emitted once and referenced by name.
"""
import json
import sys

import yaml

ROOTS = ["Notification", "User", "UpdateUserRequest", "SubscriptionBody", "UserIdentityBody",
         "TransferSubscriptionRequestBody", "Segment", "UpdateSegmentRequest", "PropertiesObject", "PropertiesDeltas",
         "Subscription", "Purchase", "FilterExpression", "LanguageStringMap", "Button", "WebButton"]

HEADER = "// The request-body schemas of the official OneSignal OpenAPI document v5.12.0 (MIT, OneSignal/onesignal-go-api\n// `api/openapi.yaml`, copied in `shared/specs/onesignal/`), as `Schema` values.\n// Generated: do not edit; run `scripts/generate-onesignal-schemas.py <spec.yaml>`.\n// `$ref`, `allOf` and `anyOf` are resolved and merged, read-only members are left out, `oneOf` (FilterExpression)\n// becomes `anyOf`. Member names, types, `nullable`, `enum`, `maxLength`, `required`, `additionalProperties`,\n// `minProperties` and `maxProperties` are the spec's. None of these schemas says `additionalProperties: false`, so\n// unknown members are accepted, as the spec allows.\n\n/// The OneSignal request bodies the sandbox validates, as the OpenAPI document v5.12.0 defines them.\n"

# The spec uses the YAML `=` value tag in an example; read it as a plain string.
yaml.SafeLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))
S = yaml.safe_load(open(sys.argv[1]))["components"]["schemas"]


def resolve(node):
    """Flatten $ref/allOf/anyOf into a normalized dict."""
    if '$ref' in node:
        name = node['$ref'].split('/')[-1]
        out = resolve(S[name])
        # keep siblings (nullable etc.)
        for k, v in node.items():
            if k != '$ref': out[k] = v
        return out
    if 'allOf' in node or 'anyOf' in node:
        parts = node.get('allOf', []) + node.get('anyOf', [])
        out = {'properties': {}, 'required': []}
        for k, v in node.items():
            if k not in ('allOf', 'anyOf'): out[k] = v
        for p in parts:
            r = resolve(p)
            for k, v in r.items():
                if k == 'properties': out['properties'].update(v)
                elif k == 'required': out['required'] += v
                elif k not in out: out[k] = v
        if not out['properties'] and 'type' in out and out['type'] != 'object':
            del out['properties']; del out['required']
        return out
    return dict(node)

NAMED = {'PropertiesObject','Subscription','Purchase','PropertiesDeltas','FilterExpression','LanguageStringMap','Button','WebButton'}
def sw(node, indent, top=False):
    if not top and '$ref' in node and node['$ref'].split('/')[-1] in NAMED and len(node) == 1:
        name = node['$ref'].split('/')[-1]
        return name[0].lower() + name[1:]
    if not top and 'allOf' in node:
        refs = [p for p in node['allOf'] if '$ref' in p]
        others = [p for p in node['allOf'] if '$ref' not in p]
        if len(refs) == 1 and all(set(o) <= {'description', 'example', 'writeOnly'} for o in others) and refs[0]['$ref'].split('/')[-1] in NAMED:
            name = refs[0]['$ref'].split('/')[-1]
            base = name[0].lower() + name[1:]
            return base + ('.orNull' if node.get('nullable') else '')
    n = resolve(node)
    if 'oneOf' in n:
        alts = ', '.join(sw(a, indent) for a in n['oneOf'])
        return f'.anyOf([{alts}])'
    t = n.get('type')
    if t is None and 'properties' in n: t = 'object'
    nullable = n.get('nullable', False)
    nl = ', nullable: true' if nullable else ''
    if t == 'string':
        extra = ''
        if 'enum' in n: extra += ', enumeration: ' + json.dumps([str(x) for x in n['enum']])
        if 'maxLength' in n: extra += f", maxLength: {n['maxLength']}"
        return f'.string({extra[2:]}{nl})'.replace('(, ', '(')
    if t == 'integer':
        extra = ''
        if 'enum' in n: extra = ', integerEnumeration: ' + json.dumps([int(x) for x in n['enum']])
        return f'.integer({(extra[2:] + nl) if extra else nl[2:]})'
    if t == 'number': return f'.number({nl[2:]})'
    if t == 'boolean': return f'.boolean({nl[2:]})'
    if t == 'array':
        return f'.array({sw(n.get("items", {}), indent)}{nl})'
    if t == 'object':
        props = n.get('properties', {})
        ap = n.get('additionalProperties', None)
        pad = ' ' * (indent + 4)
        lines = []
        for k in props:
            if props[k].get('readOnly'): continue
            lines.append(f'{pad}"{k}": {sw(props[k], indent + 4)},')
        args = []
        if lines:
            args.append('properties: [\n' + '\n'.join(lines) + '\n' + ' ' * indent + ']')
        req = sorted(set(n.get('required', [])))
        if req: args.append('required: ' + json.dumps(req))
        if isinstance(ap, dict) and ap:
            args.append(f'additionalProperties: {sw(ap, indent)}')
        if 'minProperties' in n: args.append(f"minProperties: {n['minProperties']}")
        if 'maxProperties' in n: args.append(f"maxProperties: {n['maxProperties']}")
        if nullable: args.append('nullable: true')
        return '.object(' + ', '.join(args) + ')'
    return '.any'


lines = [HEADER + "enum OneSignalSchemas {"]
for index, name in enumerate(ROOTS):
    if index:
        lines.append("")
    lines.append(f"    /// `components.schemas.{name}`")
    lines.append(f"    static let {name[0].lower() + name[1:]}: Schema = " + sw({"$ref": "#/components/schemas/" + name}, 4, top=True))
lines.append("}")
print("\n".join(lines))

