// The scratch CJS app: loads every package through `require`, from the
// installed tarballs (their .cjs builds), then runs the shared smoke pass.
'use strict';
const http = require('node:http');
const express = require('express');
const Koa = require('koa');
const Router = require('@koa/router');
const Fastify = require('fastify');
const idExpress = require('@idgate/express');
const idKoa = require('@idgate/koa');
const idFastify = require('@idgate/fastify');
const chat = require('@idgate/chat');
const kyc = require('@idgate/kyc');
const mock = require('@idgate/mock-upstream');
const promClient = require('prom-client');
const telemetry = require('@idgate/telemetry/prometheus');

for (const name of ['@idgate/telemetry/prometheus', '@idgate/core', '@idgate/express', '@idgate/koa', '@idgate/fastify', '@idgate/chat', '@idgate/kyc', '@idgate/mock-upstream']) {
  const file = require.resolve(name);
  if (!file.endsWith('.cjs') || !file.includes(`node_modules/${name.split('/').slice(0, 2).join('/')}/`)) throw new Error(`${name} resolved to ${file}, not its installed CJS build`);
}
import('./smoke.mjs')
  .then(({ smoke }) => smoke({ http, express, Koa, Router: Router.default ?? Router, Fastify, idExpress, idKoa, idFastify, chat, kyc, mock, promClient, telemetry }))
  .then((passed) => console.log(JSON.stringify({ format: 'cjs', node: process.version, passed, core: require.resolve('@idgate/core') })))
  .catch((err) => { console.error(err); process.exit(1); });
