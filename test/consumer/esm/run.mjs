// The scratch ESM app: loads every package through `import`, from the
// installed tarballs, then runs the shared smoke pass.
import http from 'node:http';
import express from 'express';
import Koa from 'koa';
import Router from '@koa/router';
import Fastify from 'fastify';
import * as idExpress from '@idgate/express';
import * as idKoa from '@idgate/koa';
import * as idFastify from '@idgate/fastify';
import * as chat from '@idgate/chat';
import * as kyc from '@idgate/kyc';
import * as mock from '@idgate/mock-upstream';
import * as core from '@idgate/core';
import * as promClient from 'prom-client';
import * as telemetry from '@idgate/telemetry/prometheus';
import { createRequire } from 'node:module';
import { smoke } from './smoke.mjs';

// The ESM build is what `import` gets: prove it is not the CJS file.
const resolved = createRequire(import.meta.url).resolve('@idgate/core');
if (!resolved.includes('node_modules/@idgate/core/')) throw new Error(`@idgate/core resolved outside node_modules: ${resolved}`);
if (typeof core.createIdgate !== 'function') throw new Error('@idgate/core has no createIdgate');
const passed = await smoke({ http, express, Koa, Router, Fastify, idExpress, idKoa, idFastify, chat, kyc, mock, promClient, telemetry });
console.log(JSON.stringify({ format: 'esm', node: process.version, passed, core: new URL(import.meta.resolve('@idgate/core')).pathname }));
