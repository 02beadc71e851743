#!/usr/bin/env node
// Restores the client-side libraries declared in a LibMan manifest (libman.json)
// without the LibMan CLI: packages are fetched from the npm registry with
// `npm pack`, which is what LibMan's unpkg and jsDelivr providers serve.
//
// Usage:
//   node restore-client-libraries.mjs --manifest <libman.json> --cache <dir> [--stamp <file>]
//
// For each library it copies exactly the listed files (simple globs such as
// "dist/*.js" are allowed, as in LibMan) into the library's destination,
// keeping the path each file has in the package, as LibMan does:
// "dist/jquery.js" lands at "<destination>/dist/jquery.js". A library without
// "files" gets every file of the package.
//
// The stamp file, written last, lists the restored files (paths relative to
// the manifest's folder, one a line); MSBuild uses it for incrementality, and
// the next run deletes files that an earlier run restored but the manifest no
// longer asks for.
//
// Needs Node 18+, npm and tar on PATH, and no npm dependencies.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';

const SUPPORTED_PROVIDERS = new Set(['unpkg', 'jsdelivr']);
const EXACT_VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

class RestoreError extends Error {}

function fail(message) {
    throw new RestoreError(message);
}

function parseArgs(argv) {
    const args = {};
    for (let i = 0; i < argv.length; i++) {
        const name = argv[i];
        if (!name.startsWith('--') || i + 1 >= argv.length) {
            fail(`unexpected argument '${name}'. Usage: restore-client-libraries.mjs --manifest <libman.json> --cache <dir> [--stamp <file>]`);
        }
        args[name.slice(2)] = argv[++i];
    }
    if (!args.manifest || !args.cache) {
        fail('--manifest and --cache are required.');
    }
    return args;
}

function readManifest(manifestPath) {
    let text;
    try {
        text = fs.readFileSync(manifestPath, 'utf8');
    } catch (e) {
        fail(`cannot read ${manifestPath}: ${e.message}`);
    }
    try {
        return JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (e) {
        fail(`${manifestPath} is not valid JSON: ${e.message}`);
    }
}

// "jquery@3.7.1" -> { name: "jquery", version: "3.7.1" }; "@scope/pkg@1.0.0" works too.
function parseLibraryId(id) {
    const at = id.lastIndexOf('@');
    if (at <= 0) {
        fail(`library '${id}' has no version: write it as name@version.`);
    }
    return { name: id.slice(0, at), version: id.slice(at + 1) };
}

function run(command, args, options) {
    const result = spawnSync(command, args, {
        encoding: 'utf8',
        // npm is npm.cmd on Windows, which only a shell can start.
        shell: process.platform === 'win32',
        maxBuffer: 64 * 1024 * 1024,
        ...options,
    });
    if (result.error) {
        const hint = result.error.code === 'ENOENT' ? ` ('${command}' was not found on PATH)` : '';
        fail(`could not run ${command}${hint}: ${result.error.message}`);
    }
    return result;
}

function removeDir(dir) {
    fs.rmSync(dir, { recursive: true, force: true });
}

function listFiles(root, prefix = '') {
    const files = [];
    for (const entry of fs.readdirSync(path.join(root, prefix), { withFileTypes: true })) {
        const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
            files.push(...listFiles(root, rel));
        } else if (entry.isFile()) {
            files.push(rel);
        }
    }
    return files;
}

// Fetches name@version with `npm pack` and extracts it; returns the folder that
// holds the package's files and a function that removes what must not be kept. Exact versions are cached; concurrent builds are
// safe because a package folder only appears by an atomic rename.
function fetchPackage(name, version, cacheDir, cwd) {
    const spec = `${name}@${version}`;
    const cacheable = EXACT_VERSION.test(version);
    const finalDir = path.join(cacheDir, spec.replace(/[\\/:*?"<>|]/g, '_'));
    if (cacheable && fs.existsSync(path.join(finalDir, 'package'))) {
        return { dir: path.join(finalDir, 'package'), cleanup: () => {} };
    }

    fs.mkdirSync(cacheDir, { recursive: true });
    const work = path.join(cacheDir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    fs.mkdirSync(work);
    try {
        console.log(`restore-client-libraries: npm pack ${spec}`);
        const npm = run('npm', ['pack', spec, '--json', '--ignore-scripts', '--pack-destination', work, '--loglevel=error'], {
            cwd,
            env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
        });
        if (npm.status !== 0) {
            const details = (npm.stderr ?? '').trim() || (npm.stdout ?? '').trim();
            fail(`'npm pack ${spec}' failed (exit code ${npm.status}). Check that the package and version exist and that npm can reach its registry.${details ? `\n${details}` : ''}`);
        }
        const tarball = fs.readdirSync(work).find(f => f.endsWith('.tgz'));
        if (!tarball) {
            fail(`'npm pack ${spec}' did not produce a tarball.`);
        }

        const extracted = path.join(work, 'extracted');
        fs.mkdirSync(extracted);
        // A relative tarball path keeps GNU tar from reading "C:" as a remote host on Windows.
        const tar = run('tar', ['-xzf', path.join('..', tarball), '-C', '.'], { cwd: extracted });
        if (tar.status !== 0) {
            fail(`could not extract ${tarball} with tar (exit code ${tar.status}): ${(tar.stderr ?? '').trim()}`);
        }
        if (!fs.existsSync(path.join(extracted, 'package'))) {
            fail(`${tarball} has no 'package/' folder.`);
        }

        if (!cacheable) {
            return { dir: path.join(extracted, 'package'), cleanup: () => removeDir(work) };
        }
        try {
            fs.renameSync(extracted, finalDir);
        } catch (e) {
            // Another build put it there first; use that one.
            if (!fs.existsSync(path.join(finalDir, 'package'))) {
                throw e;
            }
        }
        removeDir(work);
        return { dir: path.join(finalDir, 'package'), cleanup: () => {} };
    } catch (e) {
        removeDir(work);
        throw e;
    }
}

function globToRegExp(pattern) {
    let re = '';
    for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i];
        if (c === '*') {
            if (pattern[i + 1] === '*') {
                i++;
                if (pattern[i + 1] === '/') {
                    i++;
                    re += '(?:.*/)?';
                } else {
                    re += '.*';
                }
            } else {
                re += '[^/]*';
            }
        } else if (c === '?') {
            re += '[^/]';
        } else {
            re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
        }
    }
    return new RegExp(`^${re}$`);
}

function selectFiles(library, packageDir) {
    const all = listFiles(packageDir);
    const requested = library.files;
    if (requested === undefined || requested === null || requested.length === 0) {
        return all;
    }
    if (!Array.isArray(requested)) {
        fail(`'files' of library '${library.library}' must be an array.`);
    }
    const selected = new Set();
    for (const raw of requested) {
        const entry = String(raw).replace(/\\/g, '/').replace(/^\.?\//, '');
        if (entry.split('/').includes('..')) {
            fail(`file '${raw}' of library '${library.library}' points outside the package.`);
        }
        if (/[*?]/.test(entry)) {
            const re = globToRegExp(entry);
            const matches = all.filter(f => re.test(f));
            if (matches.length === 0) {
                fail(`no file of ${library.library} matches '${raw}'.`);
            }
            matches.forEach(f => selected.add(f));
        } else if (all.includes(entry)) {
            selected.add(entry);
        } else {
            const shown = all.slice(0, 30).join(', ') + (all.length > 30 ? `, ... (${all.length - 30} more)` : '');
            fail(`${library.library} has no file '${raw}'. Its files are: ${shown}`);
        }
    }
    return [...selected].sort();
}

function sameContent(a, b) {
    try {
        const sa = fs.statSync(a);
        const sb = fs.statSync(b);
        return sa.size === sb.size && fs.readFileSync(a).equals(fs.readFileSync(b));
    } catch {
        return false;
    }
}

// Copies via a temporary file and a rename, so a concurrent reader never sees a
// half-written file; an identical file is left alone to keep its timestamp.
function copyFile(source, target) {
    if (sameContent(source, target)) {
        return;
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const temp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    fs.copyFileSync(source, temp);
    fs.renameSync(temp, target);
}

function toPosix(p) {
    return p.split(path.sep).join('/');
}

function writeAtomically(file, text) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    fs.writeFileSync(temp, text);
    fs.renameSync(temp, file);
}

function removeStaleFiles(stampPath, root, keep) {
    let previous;
    try {
        previous = fs.readFileSync(stampPath, 'utf8').split(/\r?\n/).filter(Boolean);
    } catch {
        return;
    }
    for (const rel of previous) {
        if (keep.has(rel) || rel.split('/').includes('..') || path.isAbsolute(rel)) {
            continue;
        }
        const file = path.join(root, rel);
        fs.rmSync(file, { force: true });
        // Remove folders the deletion left empty, up to the manifest's folder.
        for (let dir = path.dirname(file); dir.startsWith(root + path.sep); dir = path.dirname(dir)) {
            try {
                fs.rmdirSync(dir);
            } catch {
                break;
            }
        }
    }
}

function main() {
    const args = parseArgs(process.argv.slice(2));
    const manifestPath = path.resolve(args.manifest);
    const root = path.dirname(manifestPath);
    const cacheDir = path.resolve(args.cache);
    const manifest = readManifest(manifestPath);

    if (manifest.version !== undefined && !['1.0', '3.0'].includes(String(manifest.version))) {
        fail(`${path.basename(manifestPath)} has version '${manifest.version}'; this script knows versions 1.0 and 3.0.`);
    }
    if (!Array.isArray(manifest.libraries)) {
        fail(`${path.basename(manifestPath)} has no 'libraries' array.`);
    }

    const restored = new Set();
    const cleanups = [];
    try {
        for (const library of manifest.libraries) {
            const id = library.library;
            if (typeof id !== 'string' || id === '') {
                fail("a library has no 'library' name.");
            }
            const provider = library.provider ?? manifest.defaultProvider;
            if (!SUPPORTED_PROVIDERS.has(provider)) {
                fail(`library '${id}' uses provider '${provider ?? '(none)'}', which this fallback cannot restore (it handles ${[...SUPPORTED_PROVIDERS].join(' and ')}). Install the LibMan CLI (dotnet tool install -g Microsoft.Web.LibraryManager.Cli) to restore it.`);
            }
            if (library.fileMappings !== undefined) {
                fail(`library '${id}' uses 'fileMappings', which this fallback does not handle; list the files in 'files' or install the LibMan CLI.`);
            }
            const destination = library.destination ?? manifest.defaultDestination;
            if (typeof destination !== 'string' || destination === '') {
                fail(`library '${id}' has no destination and the manifest has no defaultDestination.`);
            }
            const { name, version } = parseLibraryId(id);
            if (provider === 'jsdelivr' && name.startsWith('gh/')) {
                fail(`library '${id}' is a GitHub library of jsDelivr, which this fallback cannot restore; install the LibMan CLI.`);
            }

            const { dir: packageDir, cleanup } = fetchPackage(name, version, cacheDir, root);
            cleanups.push(cleanup);

            const destinationDir = path.resolve(root, destination);
            const files = selectFiles(library, packageDir);
            for (const file of files) {
                const target = path.join(destinationDir, ...file.split('/'));
                copyFile(path.join(packageDir, ...file.split('/')), target);
                restored.add(toPosix(path.relative(root, target)));
            }
            console.log(`restore-client-libraries: ${id} -> ${toPosix(path.relative(root, destinationDir)) || '.'} (${files.length} file${files.length === 1 ? '' : 's'})`);
        }
    } finally {
        cleanups.forEach(c => c());
    }

    if (args.stamp) {
        const stampPath = path.resolve(args.stamp);
        removeStaleFiles(stampPath, root, restored);
        writeAtomically(stampPath, [...restored].sort().map(f => `${f}\n`).join(''));
    }
}

try {
    main();
} catch (e) {
    const where = process.argv.includes('--manifest')
        ? path.resolve(process.argv[process.argv.indexOf('--manifest') + 1] ?? 'libman.json')
        : 'libman.json';
    // MSBuild's canonical error format, so the Exec task reports it as an error.
    const message = e instanceof RestoreError ? e.message : (e.stack ?? String(e));
    console.error(`${where} : error LIBMAN001: ${message.split('\n').join('\n    ')}`);
    process.exitCode = 1;
}
