/**
 * `h5wasm-plugins` for the browser. In Node, `install_local_plugins` points HDF5 at the
 * package's plugin folder; in the browser the worker copies the filters PyTables files use
 * (blosc, lz4, zstd, bitshuffle — shipped as assets of this site) into HDF5's plugin folder
 * on the Emscripten FS before it opens an HDF5 file (`installBrowserPlugins`).
 */
const PLUGIN_URLS: Record<string, string> = {
  blosc: new URL('../../../node_modules/h5wasm-plugins/plugins/libH5Zblosc.so', import.meta.url).href,
  lz4: new URL('../../../node_modules/h5wasm-plugins/plugins/libH5Zlz4.so', import.meta.url).href,
  zstd: new URL('../../../node_modules/h5wasm-plugins/plugins/libH5Zzstd.so', import.meta.url).href,
  bshuf: new URL('../../../node_modules/h5wasm-plugins/plugins/libH5Zbshuf.so', import.meta.url).href,
};

export const plugin_names = Object.keys(PLUGIN_URLS);

/** Nothing to do here: see installBrowserPlugins. */
export function install_local_plugins(_module: object): void {}

interface PluginModule {
  get_plugin_search_paths(): string[];
  FS: { mkdirTree(p: string): void; writeFile(p: string, d: Uint8Array): void };
}

let installed: Promise<void> | undefined;

export function installBrowserPlugins(module: PluginModule): Promise<void> {
  installed ??= (async () => {
    const dir = module.get_plugin_search_paths()[0];
    module.FS.mkdirTree(dir);
    await Promise.all(
      Object.entries(PLUGIN_URLS).map(async ([name, url]) => {
        const r = await fetch(url);
        if (!r.ok) throw new Error(`HDF5 filter plugin ${name}: ${r.status} ${r.statusText} (${url})`);
        module.FS.writeFile(`${dir}/libH5Z${name}.so`, new Uint8Array(await r.arrayBuffer()));
      }),
    );
  })();
  // A failed fetch (offline before they arrived) is tried again at the next HDF5 file.
  installed.catch(() => (installed = undefined));
  return installed;
}

export default { plugin_names, install_local_plugins };
