import fs from 'node:fs';
import type { Adapter } from 'lowdb';
import { writeFileDurable } from '../base/node/files';

/**
 * A lowdb adapter whose writes are durable (lowdb's stock writer renames but never fsyncs):
 * unique temp file, fsync, rename, fsync the directory. Group commit is the Store's job.
 */
export class DurableJsonFile<T> implements Adapter<T> {
  constructor(
    readonly file: string,
    private readonly parse: (text: string) => T,
    private readonly serialize: (data: T) => string,
  ) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await fs.promises.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return this.parse(text);
  }

  write(data: T): Promise<void> {
    return this.writeText(this.serialize(data));
  }

  /** Writes an already serialised state. */
  async writeText(text: string): Promise<void> {
    await writeFileDurable(this.file, text);
  }
}
