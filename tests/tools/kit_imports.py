"""Lists the third-party modules the training kit imports, with the file each resolves to under this interpreter.

    /usr/bin/python3 tests/tools/kit_imports.py models/training   -> JSON [{module, file, error?}]

Read by install-steps.test.ts, which asks dpkg which Debian package owns each file.
"""
import ast
import importlib
import json
import os
import sys


def imported_modules(root):
    names = set()
    for folder, _, files in os.walk(root):
        for f in files:
            if not f.endswith('.py'):
                continue
            with open(os.path.join(folder, f), encoding='utf-8') as fh:
                tree = ast.parse(fh.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(a.name.split('.')[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.add(node.module.split('.')[0])
    return names


def main(root):
    local = {os.path.splitext(n)[0] for n in os.listdir(root)}
    third_party = sorted(m for m in imported_modules(root) if m not in sys.stdlib_module_names and m not in local)
    sys.path.insert(0, root)
    report = []
    for name in third_party:
        try:
            module = importlib.import_module(name)
            report.append({'module': name, 'file': getattr(module, '__file__', None)})
        except Exception as e:  # noqa: BLE001 - any failure means the module is not usable here
            report.append({'module': name, 'file': None, 'error': f'{type(e).__name__}: {e}'})
    json.dump(report, sys.stdout)


if __name__ == '__main__':
    main(sys.argv[1])
