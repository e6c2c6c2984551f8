import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import crypto from 'node:crypto';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { BellaError } from '../../api/errors';
import { createTestCa, issueLeaf } from '../../../test/helpers/ca';
import { fingerprintOf, generateSelfSigned, loadCertificatePair, machineNames, splitNames } from './certificate';

const DAY = 86_400_000;

function nodeFingerprint(pem: string): string {
  return 'sha256:' + new crypto.X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
}

function refusal(fn: () => unknown): BellaError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BellaError);
    return err as BellaError;
  }
  throw new Error('expected a refusal');
}

describe('generateSelfSigned', () => {
  it('makes an ECDSA P-256 leaf with the SANs, a random serial and the asked validity', async () => {
    const now = new Date();
    const pair = await generateSelfSigned({
      dnsNames: ['bella.test', 'Box.Example.LAN'],
      ipAddresses: ['127.0.0.1', '10.1.2.3', '::1', 'fd00::7'],
      validDays: 825,
    });
    const cert = new crypto.X509Certificate(pair.certPem);
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new x509.X509Certificate(pair.certPem).signatureAlgorithm).toMatchObject({
      name: 'ECDSA',
      hash: { name: 'SHA-256' },
    });
    expect(cert.subjectAltName?.split(', ')).toEqual([
      'DNS:bella.test',
      'DNS:box.example.lan',
      'IP Address:127.0.0.1',
      'IP Address:10.1.2.3',
      'IP Address:0:0:0:0:0:0:0:1',
      'IP Address:FD00:0:0:0:0:0:0:7',
    ]);
    expect(pair.names).toEqual([
      'DNS:bella.test',
      'DNS:box.example.lan',
      'IP:127.0.0.1',
      'IP:10.1.2.3',
      'IP:::1',
      'IP:fd00::7',
    ]);
    expect(cert.ca).toBe(false);
    expect(cert.checkPrivateKey(crypto.createPrivateKey(pair.keyPem))).toBe(true);
    expect(pair.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const notAfter = Date.parse(pair.notAfter);
    expect(Math.abs(notAfter - (now.getTime() + 825 * DAY))).toBeLessThan(60_000);
    expect(Date.parse(cert.validTo)).toBe(notAfter);
    expect(Date.parse(cert.validFrom)).toBeLessThan(now.getTime());

    const other = await generateSelfSigned({ dnsNames: ['bella.test'], ipAddresses: [], validDays: 825 });
    expect(new crypto.X509Certificate(other.certPem).serialNumber).not.toBe(cert.serialNumber);
    expect(cert.serialNumber).toMatch(/^[0-9A-F]{32}$/);
  });

  it("gives the fingerprint Node computes over the certificate's DER", async () => {
    const pair = await generateSelfSigned({ dnsNames: ['bella.test'], ipAddresses: ['127.0.0.1'] });
    expect(pair.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(pair.fingerprint).toBe(nodeFingerprint(pair.certPem));
    expect(fingerprintOf(pair.certPem)).toBe(pair.fingerprint);
  });

  it('refuses names that are neither DNS names nor addresses, no names, and absurd validity', async () => {
    await expect(generateSelfSigned({ dnsNames: ['bad name!'], ipAddresses: [] })).rejects.toThrow(
      /--name bad name! is neither/,
    );
    await expect(generateSelfSigned({ dnsNames: [], ipAddresses: [] })).rejects.toThrow(/at least one DNS name/);
    await expect(generateSelfSigned({ dnsNames: ['a.test'], ipAddresses: [], validDays: 0 })).rejects.toThrow(
      /1 to 3650 days/,
    );
  });
});

describe('splitNames and machineNames', () => {
  it('sorts typed names into DNS names and addresses', () => {
    expect(splitNames(['Bella.Example.lan', '192.168.1.7', '[fd00::1]', 'localhost'])).toEqual({
      dnsNames: ['bella.example.lan', 'localhost'],
      ipAddresses: ['192.168.1.7', 'fd00::1'],
    });
    expect(refusal(() => splitNames(['-x.example'])).code).toBe('invalid_argument');
  });

  it("names the machine's hostname, its non-internal addresses and loopback", () => {
    const names = machineNames();
    expect(names.dnsNames).toContain(os.hostname().toLowerCase());
    expect(names.ipAddresses).toEqual(expect.arrayContaining(['127.0.0.1', '::1']));
    const external = Object.values(os.networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal && !a.address.startsWith('fe80:'))
      .map((a) => a!.address);
    expect(names.ipAddresses).toEqual(expect.arrayContaining(external));
    expect(names.ipAddresses.some((a) => a.startsWith('fe80:'))).toBe(false);
  });
});

describe('loadCertificatePair', () => {
  it('accepts a generated pair and gives the same shape back', async () => {
    const pair = await generateSelfSigned({ dnsNames: ['bella.test'], ipAddresses: [] });
    expect(loadCertificatePair(pair.certPem, pair.keyPem)).toEqual(pair);
  });

  it("accepts a CA-issued leaf with its chain, pinning the leaf's fingerprint", async () => {
    const ca = await createTestCa();
    const leaf = await issueLeaf(ca, { dns: ['bella.example.lan'], ip: ['10.0.0.9'] });
    const loaded = loadCertificatePair(leaf.certPem + ca.certPem, leaf.keyPem);
    expect(loaded.fingerprint).toBe(nodeFingerprint(leaf.certPem));
    expect(loaded.certPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(loaded.names).toEqual(['DNS:bella.example.lan', 'IP:10.0.0.9']);
  });

  it('refuses a key that does not belong to the certificate', async () => {
    const a = await generateSelfSigned({ dnsNames: ['a.test'], ipAddresses: [] });
    const b = await generateSelfSigned({ dnsNames: ['b.test'], ipAddresses: [] });
    const err = refusal(() =>
      loadCertificatePair(a.certPem, b.keyPem, { certLabel: '--cert a.pem', keyLabel: '--key b.key' }),
    );
    expect(err.code).toBe('invalid_argument');
    expect(err.message).toBe(
      '--key b.key does not belong to the certificate in --cert a.pem: give the key it was issued for',
    );
  });

  it('refuses an expired certificate and one not valid yet', async () => {
    const old = await generateSelfSigned({
      dnsNames: ['a.test'],
      ipAddresses: [],
      validDays: 30,
      now: new Date(Date.now() - 40 * DAY),
    });
    const err = refusal(() => loadCertificatePair(old.certPem, old.keyPem));
    expect(err.code).toBe('invalid_argument');
    expect(err.message).toMatch(/^the certificate in the --cert file expired on \d{4}-.*: renew it with your CA$/);
    // The same pair is fine at a time inside its validity: the refusal is about the date only.
    expect(loadCertificatePair(old.certPem, old.keyPem, { now: new Date(Date.now() - 35 * DAY) }).fingerprint).toBe(
      old.fingerprint,
    );

    const ca = await createTestCa();
    const future = await issueLeaf(
      ca,
      { dns: ['a.test'] },
      { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 2 * DAY) },
    );
    expect(refusal(() => loadCertificatePair(future.certPem, future.keyPem)).message).toMatch(
      /is not valid before .*: check this machine's clock/,
    );
  });

  it('says what is wrong with files that are not a usable certificate or key', async () => {
    const pair = await generateSelfSigned({ dnsNames: ['a.test'], ipAddresses: [] });
    expect(refusal(() => loadCertificatePair('hello', pair.keyPem)).message).toMatch(/holds no PEM certificate/);
    expect(
      refusal(() => loadCertificatePair('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', pair.keyPem))
        .message,
    ).toMatch(/is not a valid PEM certificate/);
    expect(refusal(() => loadCertificatePair(pair.certPem, 'not a key')).message).toMatch(/is not a PEM private key/);

    const encrypted = crypto
      .createPrivateKey(pair.keyPem)
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
    expect(refusal(() => loadCertificatePair(pair.certPem, encrypted)).message).toMatch(
      /is encrypted: give an unencrypted copy/,
    );

    const weak = crypto
      .generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(refusal(() => loadCertificatePair(pair.certPem, weak)).message).toMatch(
      /is a rsa 1024-bit key, which is too weak/,
    );
  });
});
