import { describe, expect, it } from 'vitest';
import { compareVersions, satisfies, type VersionScheme } from './versions.js';

const order = (a: string, b: string, scheme: VersionScheme) => Math.sign(compareVersions(a, b, scheme));

describe('compareVersions', () => {
  it.each([
    ['18.12.416', '18.12.416.0', 0],
    ['18.12.416', '18.12.422', -1],
    ['18.12.416.0', '18.12.407', 1],
    ['18.13.959', '18.12.425', 1],
    ['18.9', '18.10', -1],
    ['1.0.1', '1.0.beta', 1],
    ['2.0', '2.0.0.0', 0],
  ])('generic %s vs %s', (a, b, expected) => expect(order(a, b, 'generic')).toBe(expected));

  it.each([
    ['5.6.1+really5.4.5-1', '5.6.1-1', 1],
    ['5.6.1-1', '5.6.1+really5.4.5-1', -1],
    ['5.6.0-0.2', '5.6.0-0.1', 1],
    ['5.5.1alpha-0.1', '5.6.0-0.1', -1],
    ['1:1.0-1', '2.0-1', 1],
    ['1.0~rc1-1', '1.0-1', -1],
    ['1.0-1', '1.0-1', 0],
    ['5.4.1-0.2', '5.6.1+really5.4.5-1', -1],
    ['1.0a', '1.0+', -1],
  ])('dpkg %s vs %s', (a, b, expected) => expect(order(a, b, 'dpkg')).toBe(expected));

  it.each([
    ['1:5.4.6-3.fc40', '5.6.1-1.fc41', 1],
    ['5.6.1-1.fc41', '5.6.0-2.fc40', 1],
    ['5.6.1.revertto5.4-2.1', '5.6.1-1.1', 1],
    ['1.0~rc1-1', '1.0-1', -1],
    ['1.0^git1-1', '1.0-1', 1],
    ['1.10-1', '1.9-1', 1],
    ['5.6.1-r2', '5.6.1-r1', 1],
  ])('rpm %s vs %s', (a, b, expected) => expect(order(a, b, 'rpm')).toBe(expected));
});

describe('satisfies', () => {
  it.each([
    ['18.12.416.0', '18.12.416', 'generic', true],
    ['18.12.422', '18.12.416', 'generic', false],
    ['18.12.410', '>=18.12.402 <=18.12.416', 'generic', true],
    ['18.12.422', '>=18.12.422', 'generic', true],
    ['5.6.1-1', '5.6.1-1', 'dpkg', true],
    ['5.6.1+really5.4.5-1', '5.6.1-1', 'dpkg', false],
    ['5.6.1+really5.4.5-1', '5.6.1', 'dpkg', false],
    ['5.6.1-1.fc41', '5.6.1', 'rpm', true],
    ['5.6.1.revertto5.4-2.1', '5.6.1', 'rpm', false],
    ['1:5.4.6-3.fc40', '5.6.0', 'rpm', false],
    ['5.6.1-2', '5.6.1-1', 'rpm', false],
    ['5.6.1-1', '5.6.1-1', 'rpm', true],
  ] as const)('%s in %s (%s) -> %s', (installed, range, scheme, expected) => {
    expect(satisfies(installed, range, scheme)).toBe(expected);
  });
});
