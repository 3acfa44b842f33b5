-- AlterTable
ALTER TABLE "User" ADD COLUMN     "accessRevokedBefore" TIMESTAMP(3);
