// For the TypeORM CLI (e.g. `npx typeorm-ts-node-commonjs migration:show -d src/database/data-source.ts`).
import 'dotenv/config';
import { DataSource } from 'typeorm';
import { loadAppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';

export default new DataSource(dataSourceOptions(loadAppConfig(process.env).database));
