#!/usr/bin/env node
/**
 * Test-only Wechaty puppet-service gateway for the 沙县零工市场 bot.
 *
 * It runs the OFFICIAL npm `wechaty-puppet-service` PuppetServer (the same gRPC
 * server code a real deployment would run) in front of `wechaty-puppet-mock`,
 * so the Python adapter (bot/adapters/wechaty_grpc.py) is exercised over real
 * gRPC / HTTP-2 on loopback.  Nothing here talks to WeChat or the internet.
 *
 * Usage:
 *   node gateway/mock_gateway.js --token insecure_test --port 0 [--host 127.0.0.1]
 *                                [--no-login] [--tls]
 *   (env fallbacks: WECHATY_PUPPET_SERVICE_TOKEN, MOCK_GATEWAY_PORT, MOCK_GATEWAY_HOST)
 *
 * Protocol (one JSON object per line):
 *   stdout  -> events from the gateway:
 *     {"event":"ready","endpoint":"127.0.0.1:PORT","port":PORT,"tls":false,"logged_in":true,
 *      "self":{"id","name"},"contacts":[{"id","name"}],"rooms":[{"id","topic","member_ids"}]}
 *     {"event":"login","self_id":...}            the mock bot user logged in
 *     {"event":"logout","self_id":...}
 *     {"event":"bot_say","kind":"room"|"contact","conversation_id":...,"text":...,"mention_ids":[...]}
 *                                                 every text the Python bot sent (MessageSendText)
 *     {"event":"ack","op":...,"seq":...,...}      reply to a control command
 *     {"event":"error","op":...,"seq":...,"message":...}
 *   stdin   <- control commands (optional "seq" is echoed back in the ack/error):
 *     {"op":"ping"}
 *     {"op":"login"}  /  {"op":"logout"}
 *     {"op":"room_say","room":ROOM_ID,"from":CONTACT_ID,"text":...,
 *      "mention_bot":bool,"mentions":[CONTACT_ID...],"mention_text":true}
 *         mention_text (default true) prefixes "@name\u2005" per mention, like real WeChat.
 *     {"op":"contact_say","from":CONTACT_ID,"text":...}      a private (1:1) message to the bot
 *     {"op":"add_contact","id":...,"name":...}
 *     {"op":"add_room","id":"...@chatroom","topic":...,"member_ids":[...]}
 *     {"op":"shutdown"}
 *   The gateway exits when stdin closes (so a crashed test cannot leak it).
 *
 * All logging goes to stderr; stdout carries only protocol lines.
 */

// ---- keep stdout clean: the wechaty logger (brolog) writes with console.info/log ----
const toStderr = (...args) => { process.stderr.write(args.map(String).join(' ') + '\n') }
console.log = toStderr
console.info = toStderr
console.debug = toStderr
console.warn = toStderr
if (!process.env.WECHATY_LOG) process.env.WECHATY_LOG = 'warn'

const emit = (obj) => { process.stdout.write(JSON.stringify(obj) + '\n') }

function parseArgs (argv) {
  const opts = {
    host: process.env.MOCK_GATEWAY_HOST || '127.0.0.1',
    port: process.env.MOCK_GATEWAY_PORT || '0',
    token: process.env.WECHATY_PUPPET_SERVICE_TOKEN || '',
    login: true,
    tls: false,
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`)
      return argv[++i]
    }
    if (a === '--host') opts.host = next()
    else if (a === '--port') opts.port = next()
    else if (a === '--token') opts.token = next()
    else if (a === '--no-login') opts.login = false
    else if (a === '--tls') opts.tls = true
    else throw new Error(`unknown argument ${a}`)
  }
  if (!opts.token) throw new Error('a token is required: --token TOKEN or WECHATY_PUPPET_SERVICE_TOKEN')
  if (!/^\d+$/.test(String(opts.port))) throw new Error(`bad port ${opts.port}`)
  return opts
}

const SEED = {
  self: { id: 'bot_shaxian_gig', name: '沙县零工助手' },
  contacts: [
    { id: 'employer_wang', name: '王老板' },
    { id: 'worker_li', name: '李师傅' },
    { id: 'worker_chen', name: '陈阿姨' },
  ],
  rooms: [
    { id: 'shaxian_jobs@chatroom', topic: '沙县零工群', members: ['bot_shaxian_gig', 'employer_wang', 'worker_li', 'worker_chen'] },
  ],
}

async function main () {
  let opts
  try {
    opts = parseArgs(process.argv.slice(2))
  } catch (e) {
    emit({ event: 'fatal', message: String(e.message || e) })
    process.exit(2)
  }

  // Imported after the console redirection above (static imports would be hoisted).
  const { PuppetServer } = await import('wechaty-puppet-service')
  const { PuppetMock, mock } = await import('wechaty-puppet-mock')

  /** Records every text the bot sends, with mention ids as received over gRPC. */
  class RecordingPuppetMock extends PuppetMock {
    async messageSendText (conversationId, text, mentionIdList) {
      const kind = /@/.test(conversationId) ? 'room' : 'contact'
      emit({
        event: 'bot_say',
        kind,
        conversation_id: conversationId,
        text,
        mention_ids: Array.isArray(mentionIdList) ? [...mentionIdList] : [],
      })
      return super.messageSendText(conversationId, text, mentionIdList)
    }
  }

  const mocker = new mock.Mocker()
  const puppet = new RecordingPuppetMock({ mocker })

  const contactMocks = new Map()
  const contactNames = new Map()
  const addContact = (c) => {
    if (!c || typeof c.id !== 'string' || !c.id || /@/.test(c.id)) throw new Error('contact id must be a non-empty string without "@"')
    if (contactMocks.has(c.id)) throw new Error(`contact ${c.id} exists`)
    const m = mocker.createContact({ id: c.id, name: String(c.name || c.id), phone: [] })
    contactMocks.set(c.id, m)
    contactNames.set(c.id, String(c.name || c.id))
    return m
  }
  const roomMocks = new Map()
  const addRoom = (r) => {
    if (!r || typeof r.id !== 'string' || !/@/.test(r.id)) throw new Error('room id must contain "@" (e.g. "x@chatroom"); the mock routes sends by it')
    if (roomMocks.has(r.id)) throw new Error(`room ${r.id} exists`)
    const members = (r.members || r.member_ids || []).map(String)
    for (const id of members) if (!contactMocks.has(id)) throw new Error(`unknown member ${id}`)
    const m = mocker.createRoom({ id: r.id, topic: String(r.topic || r.id), memberIdList: members, adminIdList: [], ownerId: members[0] })
    roomMocks.set(r.id, m)
    return m
  }

  const selfMock = addContact(SEED.self)
  SEED.contacts.forEach(addContact)
  SEED.rooms.forEach(addRoom)

  puppet.on('login', ({ contactId }) => emit({ event: 'login', self_id: contactId }))
  puppet.on('logout', ({ contactId }) => emit({ event: 'logout', self_id: contactId }))

  await puppet.start()
  if (opts.login) {
    mocker.login(selfMock)
  }

  const server = new PuppetServer({
    endpoint: `${opts.host}:${opts.port}`,
    puppet,
    token: opts.token,
    tls: { disable: !opts.tls },
  })
  // PuppetServer.start() does not expose the bound port, so wrap bindAsync to learn it (port 0 = ephemeral).
  let boundPort = Number(opts.port)
  const { grpc } = await import('wechaty-grpc')
  const origBind = grpc.Server.prototype.bindAsync
  grpc.Server.prototype.bindAsync = function (addr, creds, cb) {
    return origBind.call(this, addr, creds, (err, port) => {
      if (!err) boundPort = port
      cb(err, port)
    })
  }
  try {
    await server.start()
  } finally {
    grpc.Server.prototype.bindAsync = origBind
  }

  const contactList = () => [...contactMocks.keys()].filter(id => id !== SEED.self.id).map(id => ({ id, name: contactNames.get(id) }))
  const roomList = () => [...roomMocks.values()].map(r => ({ id: r.id, topic: r.payload.topic, member_ids: [...r.payload.memberIdList] }))

  emit({
    event: 'ready',
    endpoint: `${opts.host}:${boundPort}`,
    host: opts.host,
    port: boundPort,
    tls: opts.tls,
    logged_in: puppet.isLoggedIn,
    self: { ...SEED.self },
    contacts: contactList(),
    rooms: roomList(),
  })

  let stopping = false
  const shutdown = async (code = 0) => {
    if (stopping) return
    stopping = true
    try { await server.stop() } catch (e) { toStderr('server.stop:', e && e.message) }
    try { await puppet.stop() } catch (e) { toStderr('puppet.stop:', e && e.message) }
    // the mock's timers and grpc-js handles may keep the loop alive; exit explicitly.
    setTimeout(() => process.exit(code), 50)
  }
  process.on('SIGTERM', () => { void shutdown(0) })
  process.on('SIGINT', () => { void shutdown(0) })

  const getContact = (id) => {
    const c = contactMocks.get(id)
    if (!c) throw new Error(`unknown contact ${id}`)
    return c
  }
  const getRoom = (id) => {
    const r = roomMocks.get(id)
    if (!r) throw new Error(`unknown room ${id}`)
    return r
  }

  // Message ids are generated inside the mock; capture the one created by our say() call
  // (matched by talker, so a concurrent echo of the bot's own send is not mistaken for it).
  const nextMessageIdFrom = (talkerId) => new Promise((resolve) => {
    const timer = setTimeout(() => { puppet.off('message', onMsg); resolve(null) }, 1000)
    function onMsg ({ messageId }) {
      const payload = mocker.cacheMessagePayload.get(messageId)
      if (!payload || payload.talkerId !== talkerId) return
      clearTimeout(timer)
      puppet.off('message', onMsg)
      resolve(messageId)
    }
    puppet.on('message', onMsg)
  })

  const handlers = {
    ping: async () => ({}),
    login: async () => {
      if (!puppet.isLoggedIn) mocker.login(selfMock)
      return { self_id: SEED.self.id }
    },
    logout: async () => {
      if (puppet.isLoggedIn) await puppet.logout()
      return {}
    },
    room_say: async (cmd) => {
      const room = getRoom(cmd.room)
      const talker = getContact(cmd.from)
      if (!room.payload.memberIdList.includes(talker.id)) throw new Error(`${talker.id} is not a member of ${room.id}`)
      const mentionIds = [...(cmd.mentions || [])]
      if (cmd.mention_bot && !mentionIds.includes(SEED.self.id)) mentionIds.unshift(SEED.self.id)
      const mentions = mentionIds.map(getContact)
      let text = String(cmd.text ?? '')
      if (cmd.mention_text !== false && mentions.length > 0) {
        text = mentions.map(m => `@${contactNames.get(m.id)}\u2005`).join('') + text
      }
      const idP = nextMessageIdFrom(talker.id)
      talker.say(text, mentions).to(room)
      return { message_id: await idP, text, mention_ids: mentionIds }
    },
    contact_say: async (cmd) => {
      const talker = getContact(cmd.from)
      const idP = nextMessageIdFrom(talker.id)
      talker.say(String(cmd.text ?? '')).to(selfMock)
      return { message_id: await idP }
    },
    add_contact: async (cmd) => { addContact({ id: cmd.id, name: cmd.name }); return { id: cmd.id } },
    add_room: async (cmd) => { addRoom({ id: cmd.id, topic: cmd.topic, members: cmd.member_ids || cmd.members }); return { id: cmd.id } },
    shutdown: async () => { setImmediate(() => { void shutdown(0) }); return {} },
  }

  // Commands run strictly one after another so message order is deterministic.
  let chain = Promise.resolve()
  let buf = ''
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (chunk) => {
    buf += chunk
    let nl
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim()
      buf = buf.slice(nl + 1)
      if (!line) continue
      chain = chain.then(async () => {
        let cmd
        try {
          cmd = JSON.parse(line)
        } catch (e) {
          emit({ event: 'error', op: null, message: `bad JSON: ${e.message}` })
          return
        }
        const seq = cmd.seq ?? null
        const handler = handlers[cmd.op]
        if (!handler) {
          emit({ event: 'error', op: cmd.op ?? null, seq, message: `unknown op ${JSON.stringify(cmd.op)}` })
          return
        }
        try {
          const res = await handler(cmd)
          emit({ event: 'ack', op: cmd.op, seq, ...res })
        } catch (e) {
          emit({ event: 'error', op: cmd.op, seq, message: String(e && e.message ? e.message : e) })
        }
      })
    }
  })
  process.stdin.on('end', () => { void shutdown(0) })
}

main().catch((e) => {
  emit({ event: 'fatal', message: String(e && e.stack ? e.stack : e) })
  process.exit(1)
})
